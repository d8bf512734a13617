package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs its tasks one at a time, in the order given, on threads of a shared pool, as grpc-java's
 * {@code SerializingExecutor} does for a call: tasks of one executor never overlap and each sees what
 * the one before it wrote, while tasks of different executors run in parallel. A task that blocks
 * (a slow database write) holds up its own executor's later tasks and one pool thread, nothing else.
 *
 * <p>Thread-safe. {@link #execute} never blocks and never runs the task on the caller's thread.
 */
final class SerialExecutor implements Executor {

    private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

    private final Executor pool;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Whether a drain is scheduled or running; at most one is, which is the whole point. */
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** The thread draining now, for {@link #isCurrent}. */
    private volatile Thread runner;

    SerialExecutor(Executor pool) {
        this.pool = requireNonNull(pool, "pool");
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(requireNonNull(task, "task"));
        schedule();
    }

    /** Whether the calling thread is running one of this executor's tasks. */
    boolean isCurrent() {
        return runner == Thread.currentThread();
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                pool.execute(this::drain);
            } catch (RuntimeException e) { // the pool is shut down: the tasks are dropped with it
                scheduled.set(false);
                throw e;
            }
        }
    }

    private void drain() {
        runner = Thread.currentThread();
        try {
            Runnable task;
            while ((task = tasks.poll()) != null) {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    log.error("a batch task failed", e);
                }
            }
        } finally {
            runner = null;
            scheduled.set(false);
        }
        // A task added after the last poll but before the flag was cleared found a drain still scheduled.
        if (!tasks.isEmpty()) {
            schedule();
        }
    }
}
