package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Group commit: concurrent callers' writes go to the database together, in one transaction and one
 * commit, and each write's future completes only after that commit, so every write acknowledged is
 * durable. A burst of 200 creates then costs a handful of commits instead of 200, one after the other.
 *
 * <p>No thread of its own, and no caller waits for a group it is not running: the first caller to find
 * no group in progress leads, runs every write queued ({@code runner}) and goes on with the writes queued
 * meanwhile until none is left; the others queue their write and return its future at once. So a burst
 * holds one thread of the caller's pool, not one per create (a JFR profile of 200 concurrent creates
 * showed the 16 request threads parked in here, each waiting for a group of the few that had found a
 * thread, and the other requests queued behind them for a thread). A lone caller pays nothing extra:
 * it runs its own write. The runner must complete every {@link Write} it is given, whatever happens.
 *
 * <p>Thread safety: the queue and the leading flag are guarded by {@code this}; a {@link Write}'s future
 * is completed by the leader, and what depends on it runs on the leader's thread unless it says otherwise.
 */
final class GroupCommit<T, R> {

    /** One caller's write, completed by the group that ran it. */
    static final class Write<T, R> {
        final T item;
        private final CompletableFuture<R> done = new CompletableFuture<>();

        private Write(T item) {
            this.item = item;
        }

        void succeed(R value) {
            done.complete(value);
        }

        void fail(RuntimeException e) {
            done.completeExceptionally(e);
        }

        boolean isDone() {
            return done.isDone();
        }
    }

    private final Consumer<List<Write<T, R>>> runner;
    private List<Write<T, R>> queued = new ArrayList<>();
    private boolean leading;

    GroupCommit(Consumer<List<Write<T, R>>> runner) {
        this.runner = requireNonNull(runner, "runner");
    }

    /**
     * Writes {@code item} with whatever else is queued; the future completes once it is committed (or
     * failed). If the caller leads, the call returns only after the queue has run dry.
     */
    CompletableFuture<R> write(T item) {
        Write<T, R> mine = new Write<>(item);
        synchronized (this) {
            queued.add(mine);
            if (leading) {
                return mine.done;
            }
            leading = true;
        }
        lead();
        return mine.done;
    }

    /** Runs groups until none is queued; then the next caller leads. */
    private void lead() {
        while (true) {
            List<Write<T, R>> group;
            synchronized (this) {
                if (queued.isEmpty()) {
                    leading = false;
                    return;
                }
                group = queued;
                queued = new ArrayList<>();
            }
            run(group);
        }
    }

    private void run(List<Write<T, R>> group) {
        try {
            runner.accept(group);
        } catch (RuntimeException e) {
            for (Write<T, R> w : group) {
                w.fail(e);
            }
        } catch (Error e) {
            for (Write<T, R> w : group) {
                w.fail(new IllegalStateException("batch store: a group write failed", e));
            }
            synchronized (this) {
                leading = false;
            }
            throw e;
        } finally {
            for (Write<T, R> w : group) {
                if (!w.isDone()) {
                    w.fail(new IllegalStateException("batch store: a write of the group was left undone"));
                }
            }
        }
    }
}
