package io.sparkgate.server.logs;

import com.linecorp.armeria.common.util.ThreadFactories;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Indexes the output of every running application as it is written: one thread for all batches, not
 * one per batch or per follower. Each tick it indexes each followed batch's new lines; once a batch's
 * writer has ended it indexes the rest, stops following it and says so.
 */
public final class LogTailer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LogTailer.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final LogStore logs;
    private final ScheduledExecutorService thread;
    private final Map<Integer, Followed> followed = new ConcurrentHashMap<>();

    public LogTailer(LogStore logs, Duration interval) {
        this.logs = requireNonNull(logs, "logs");
        this.thread = Executors.newSingleThreadScheduledExecutor(ThreadFactories.newThreadFactory("sparkgate-log-tailer", true));
        long micros = interval.toNanos() / 1000;
        thread.scheduleWithFixedDelay(this::tick, micros, micros, TimeUnit.MICROSECONDS);
    }

    /**
     * Follows a batch's output until {@code ended} says its writer is gone (asked before each read, so
     * the read after a {@code true} sees everything written); then runs {@code drained} once.
     */
    public void follow(int batchId, BooleanSupplier ended, Runnable drained) {
        followed.put(batchId, new Followed(requireNonNull(ended, "ended"), requireNonNull(drained, "drained")));
    }

    /** An extra tick now, on the tailer's thread: a writer just ended and its end need not wait for the next one. */
    public void wake() {
        try {
            thread.execute(this::tick);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed: nothing is followed any more
        }
    }

    private void tick() {
        followed.forEach((id, f) -> {
            try {
                boolean end = f.ended.getAsBoolean();
                logs.advance(id, end);
                if (end && followed.remove(id, f)) {
                    f.drained.run();
                }
            } catch (RuntimeException e) {
                log.warn("batch {}: cannot index its output", id, e);
            }
        });
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

    private record Followed(BooleanSupplier ended, Runnable drained) {}
}
