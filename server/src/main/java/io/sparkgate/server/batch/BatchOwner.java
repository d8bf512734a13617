package io.sparkgate.server.batch;

import io.sparkgate.server.launch.LaunchedApp;
import io.sparkgate.server.store.Lease;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one owner of a live batch on this server: what is known of it beyond its stored row (its running
 * application, whether it was deleted, whether its launch is saved), and the serial executor on which
 * every change of it runs. API calls, the launch pool, the YARN tracker and the log tailer never change
 * a batch themselves: they post an event here ({@link #post}) or, when they must answer with the result,
 * wait for it ({@link #call}). So changes of one batch never race, and a slow store write for one batch
 * delays that batch only. This is also the unit a replica holds a lease on ({@link #lease}).
 *
 * <p>The fields are written only by tasks on {@link #executor}; they are volatile because readers
 * (a log tail read, a delete's answer) look at them from other threads.
 */
final class BatchOwner {

    private static final Logger log = LoggerFactory.getLogger(BatchOwner.class);

    final int id;
    private final SerialExecutor executor;

    /** The application while it runs; null before the launch and once it is gone. */
    volatile LaunchedApp app;
    /** Deleted: a launch still queued is skipped, an application still starting is killed. */
    volatile boolean deleted;
    /** Its launch info (pid) is saved, so a restarted server can find its process again. */
    volatile boolean launchSaved;
    /**
     * Replicas: this server's lease on the batch, which fences every state write of it; null on a
     * server of its own, and once the batch is final (its final write released the lease).
     */
    volatile Lease lease;
    /**
     * Replicas: the lease was lost (another replica claimed the batch): nothing more is written or
     * followed here, and the application, which the new holder tracks, is left alone.
     */
    volatile boolean released;

    BatchOwner(int id, Executor pool) {
        this.id = id;
        this.executor = new SerialExecutor(pool);
    }

    /**
     * Runs {@code event} on the owner's executor, after the events posted before it; returns at once.
     * Once the server has stopped, events are dropped: the batch is recorded durably and the next start
     * re-attaches it and reads its state again.
     */
    void post(Runnable event) {
        try {
            executor.execute(event);
        } catch (RejectedExecutionException stopped) {
            log.debug("batch {}: server stopped, event dropped", id);
        }
    }

    /**
     * Runs {@code change} on the owner's executor and waits for its result; its exception is thrown
     * here. Called from a task of this owner it runs at once (waiting would never end); when the owner
     * is idle it runs on the calling thread, as the owner's next task (the caller waits either way).
     */
    <T> T call(Supplier<T> change) {
        if (executor.isCurrent()) {
            return change.get();
        }
        Object[] result = new Object[1];
        if (executor.tryRunHere(() -> result[0] = change.get())) {
            @SuppressWarnings("unchecked")
            T value = (T) result[0];
            return value;
        }
        try {
            return CompletableFuture.supplyAsync(change, executor).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    /** {@link #call} for a change without a result. */
    void run(Runnable change) {
        call(() -> {
            change.run();
            return null;
        });
    }

    /** Whether the calling thread is running one of this owner's changes. */
    boolean isCurrent() {
        return executor.isCurrent();
    }
}
