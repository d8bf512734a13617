package io.sparkgate.server.logs;

import com.linecorp.armeria.common.util.ThreadFactories;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Indexes the output of every running application as it is written: one thread for all batches, not
 * one per batch or per follower. Each tick it indexes each followed batch's new lines; once a batch's
 * writer has ended it indexes the rest, stops following it and says so.
 *
 * <p>Ticks come only as often as someone waits for them: every {@code interval} while a batch's log is
 * followed closely (a live follower, whose latency has that floor), every {@code idleInterval} while
 * batches run unfollowed (their lines are read by polls of the log and the batch, where a tenth of a
 * second is not seen), and none while nothing runs. A tick costs little work but its wake-up does not:
 * ~0.1 ms of CPU each on this project's 2-core VMs, so 100 a second were the server's largest CPU use
 * while one SparkPi ran (70 of 270 ms, taken from the application's own 2 cores) and 1% of a core idle.
 *
 * <p>Threads: {@code followed} is a concurrent map written by any thread; the next tick's future is the
 * tailer thread's alone, which also runs every tick, so each tick replaces the one pending.
 */
public final class LogTailer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LogTailer.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final LogStore logs;
    private final ScheduledThreadPoolExecutor thread;
    private final long intervalMicros;
    private final long idleIntervalMicros;
    private final Map<Integer, Followed> followed = new ConcurrentHashMap<>();
    /** The tick scheduled next; the tailer thread's. */
    private ScheduledFuture<?> next;

    /**
     * @param interval     between ticks while a log is followed closely
     * @param idleInterval between ticks while batches run but none is followed closely
     */
    public LogTailer(LogStore logs, Duration interval, Duration idleInterval) {
        this.logs = requireNonNull(logs, "logs");
        this.intervalMicros = interval.toNanos() / 1000;
        this.idleIntervalMicros = idleInterval.toNanos() / 1000;
        if (intervalMicros <= 0 || idleIntervalMicros < intervalMicros) {
            throw new IllegalArgumentException("need 0 < interval <= idleInterval: " + interval + ", " + idleInterval);
        }
        this.thread = new ScheduledThreadPoolExecutor(1, ThreadFactories.newThreadFactory("sparkgate-log-tailer", true));
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // close: the pending tick is dropped
        thread.setRemoveOnCancelPolicy(true);
    }

    /**
     * Follows a batch's output until {@code ended} says its writer is gone (asked before each read, so
     * the read after a {@code true} sees everything written); then runs {@code drained} once.
     * {@code closely} says whether someone follows its lines live now (asked at each tick).
     */
    public void follow(int batchId, BooleanSupplier ended, Runnable drained, BooleanSupplier closely) {
        followed.put(batchId, new Followed(requireNonNull(ended, "ended"), requireNonNull(drained, "drained"),
                requireNonNull(closely, "closely")));
        wake();
    }

    /**
     * An extra tick now, on the tailer's thread: a writer just ended, or a follower came, and neither
     * need wait for the next one.
     */
    public void wake() {
        try {
            thread.execute(this::tick);
        } catch (RejectedExecutionException e) {
            // closed: nothing is followed any more
        }
    }

    private void tick() {
        if (next != null) {
            next.cancel(false);
            next = null;
        }
        boolean close = false;
        for (Map.Entry<Integer, Followed> e : followed.entrySet()) {
            int id = e.getKey();
            Followed f = e.getValue();
            try {
                boolean end = f.ended.getAsBoolean();
                logs.advance(id, end);
                if (end) {
                    if (followed.remove(id, f)) {
                        f.drained.run();
                    }
                } else {
                    close |= f.closely.getAsBoolean();
                }
            } catch (RuntimeException ex) {
                log.warn("batch {}: cannot index its output", id, ex);
            }
        }
        if (!followed.isEmpty()) {
            try {
                next = thread.schedule(this::tick, close ? intervalMicros : idleIntervalMicros, TimeUnit.MICROSECONDS);
            } catch (RejectedExecutionException ex) {
                // closed meanwhile
            }
        }
    }

    /**
     * Stops following and waits for a poll under way to finish (its callbacks may still write to the
     * store, which closes after this). Not interrupted: an interrupted store write closes H2's file.
     */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(CLOSE_WAIT.toSeconds(), TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private record Followed(BooleanSupplier ended, Runnable drained, BooleanSupplier closely) {}
}
