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
 * <p>Thread-safe. {@link #execute} never blocks and never runs the task on the caller's thread;
 * {@link #tryRunHere} is for a caller that waits for its task anyway.
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

    /**
     * Runs {@code task} on the calling thread if nothing of this executor is queued or running, as if it
     * were the executor's next task (tasks given meanwhile run after it, on the pool); its exception is
     * thrown here. A caller that would wait for the task anyway saves the hop to a pool thread and back
     * (on a busy 2-core machine, 0.2-3 ms of a launch's way to {@code running}).
     *
     * @return false, having run nothing, when the executor is busy: the caller queues the task instead
     */
    boolean tryRunHere(Runnable task) {
        requireNonNull(task, "task");
        if (!scheduled.compareAndSet(false, true)) {
            return false;
        }
        if (!tasks.isEmpty()) {
            // Queued before us (their drain lost the race to us): they go first, on the pool.
            scheduled.set(false);
            schedule();
            return false;
        }
        runner = Thread.currentThread();
        try {
            task.run();
        } finally {
            runner = null;
            scheduled.set(false);
            if (!tasks.isEmpty()) {
                schedule();
            }
        }
        return true;
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
