package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Group commit: concurrent callers' writes go to the database together, in one transaction and one
 * commit, and each caller returns only after that commit, so every write acknowledged is durable. A
 * burst of 200 creates then costs a handful of commits instead of 200, one after the other.
 *
 * <p>No thread of its own: the first caller to find no group in progress leads, takes every write
 * queued so far and runs them ({@code runner}); the callers arriving meanwhile queue up, and one of
 * them leads the next group. A lone caller pays nothing extra. The runner must complete every
 * {@link Write} it is given (with a result or a failure), whatever happens.
 *
 * <p>Thread safety: the queue and the leading flag are guarded by {@code this}; a {@link Write} is
 * completed by the leader and read by its caller after the leader's {@code notifyAll}.
 */
final class GroupCommit<T, R> {

    /** One caller's write, completed by the group that ran it. */
    static final class Write<T, R> {
        final T item;
        private R result;
        private RuntimeException failure;
        private boolean done;

        private Write(T item) {
            this.item = item;
        }

        void succeed(R value) {
            result = value;
            done = true;
        }

        void fail(RuntimeException e) {
            failure = e;
            done = true;
        }
    }

    private final Consumer<List<Write<T, R>>> runner;
    private List<Write<T, R>> queued = new ArrayList<>();
    private boolean leading;

    GroupCommit(Consumer<List<Write<T, R>>> runner) {
        this.runner = requireNonNull(runner, "runner");
    }

    /** Writes {@code item} with whatever else is queued; returns once it is committed. */
    R write(T item) {
        Write<T, R> mine = new Write<>(item);
        List<Write<T, R>> group;
        synchronized (this) {
            queued.add(mine);
            while (true) {
                if (mine.done) {
                    return outcome(mine);
                }
                if (!leading) {
                    leading = true;
                    group = queued;
                    queued = new ArrayList<>();
                    break;
                }
                try {
                    wait();
                } catch (InterruptedException e) {
                    // The write may be in a group already: it cannot be withdrawn, so wait for it.
                    Thread.currentThread().interrupt();
                    waitUninterruptibly();
                }
            }
        }
        try {
            runner.accept(group);
        } catch (RuntimeException e) {
            for (Write<T, R> w : group) {
                if (!w.done) {
                    w.fail(e);
                }
            }
        } finally {
            synchronized (this) {
                for (Write<T, R> w : group) {
                    if (!w.done) {
                        w.fail(new IllegalStateException("batch store: a write of the group was left undone"));
                    }
                }
                leading = false;
                notifyAll();
            }
        }
        synchronized (this) {
            return outcome(mine);
        }
    }

    private void waitUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                wait();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private R outcome(Write<T, R> w) {
        if (w.failure != null) {
            throw w.failure;
        }
        return w.result;
    }
}
