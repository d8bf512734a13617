package io.sparkgate.server.batch;

import io.sparkgate.server.values.BatchFilter;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.StateChange;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.logs.LogPage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live feeds of batches: log followers and state watchers, fanned out from one source per batch.
 *
 * <p>A log follower holds no lines of its own: it holds a cursor into the batch's log file and reads
 * from it at the pace its client takes them. New lines (from the one log tailer) and state changes only
 * wake followers; the writer never waits for anyone, a stalled client costs one idle cursor, and a
 * slow one reads from the page cache when it is ready again.
 *
 * <p>Over 300 lines: three kinds of feed (a log, a batch's states, all batches) share one wake-and-drain
 * loop, which is the part to read once.
 */
final class BatchFeeds {

    private static final Logger log = LoggerFactory.getLogger(BatchFeeds.class);
    /** Most lines read and sent in one go, so one follower cannot hog a feed thread. */
    private static final int PAGE = 512;

    private final BatchLogs logs;
    private final Executor executor;
    private final Map<Integer, Set<Feed>> feeds = new ConcurrentHashMap<>();
    /** Watchers of all batches, told of every change. */
    private final Set<AllBatchesWatcher> watchers = ConcurrentHashMap.newKeySet();

    BatchFeeds(BatchLogs logs, Executor executor) {
        this.logs = requireNonNull(logs, "logs");
        this.executor = requireNonNull(executor, "executor");
    }

    Subscription followLog(Batch batch, long from, LogSink sink) {
        return register(new LogFollower(batch, from, sink));
    }

    Subscription watch(Batch batch, StateSink sink) {
        return register(new StateWatcher(batch, sink));
    }

    Subscription watchAll(BatchFilter visible, BatchSink sink) {
        AllBatchesWatcher watcher = new AllBatchesWatcher(visible, sink);
        watchers.add(watcher);
        return watcher;
    }

    /** New lines of a batch's log are indexed. */
    void linesAdded(int batchId) {
        Set<Feed> set = feeds.get(batchId);
        if (set != null) {
            set.forEach(Feed::wake);
        }
    }

    /** A batch changed (saved before this call). */
    void changed(Batch batch) {
        Set<Feed> set = feeds.get(batch.id());
        if (set != null) {
            set.forEach(f -> f.changed(batch));
        }
        for (AllBatchesWatcher w : watchers) {
            w.changed(batch);
        }
    }

    /** Whether anyone watches all batches here. */
    boolean watchingAll() {
        return !watchers.isEmpty();
    }

    /**
     * Replicas: a batch changed by another replica, found in the database ({@link ElsewhereChanges});
     * told to the watchers of all batches (its own followers and watchers are polled by {@link #poll}).
     */
    void changedElsewhere(Batch batch) {
        for (AllBatchesWatcher w : watchers) {
            w.changed(batch);
        }
    }

    /**
     * Ends every feed now with {@code cause} (the server is draining): each sink's {@code fail} is called
     * from the feed's own run, never concurrently with its other calls.
     */
    void closeAll(RuntimeException cause) {
        feeds.values().forEach(set -> set.forEach(feed -> feed.close(cause)));
        watchers.forEach(watcher -> watcher.close(cause));
    }

    /**
     * Replicas: batches followed here that another replica holds change and grow unseen, so they are
     * polled: each feed is given the batch as the database has it now (its new lines are read when it
     * runs); a feed of a batch deleted meanwhile ends. On the replicas' scheduled thread.
     *
     * @param heldElsewhere whether another replica holds a batch
     * @param current the batches that still exist among the given ids, read in one go
     */
    void poll(java.util.function.IntPredicate heldElsewhere,
              java.util.function.Function<List<Integer>, List<Batch>> current) {
        List<Integer> ids = feeds.keySet().stream().filter(heldElsewhere::test).sorted().toList();
        if (ids.isEmpty()) {
            return;
        }
        Map<Integer, Batch> now = new java.util.HashMap<>();
        current.apply(ids).forEach(b -> now.put(b.id(), b));
        for (int id : ids) {
            Set<Feed> set = feeds.get(id);
            if (set == null) {
                continue;
            }
            Batch batch = now.get(id);
            for (Feed feed : set) {
                if (batch != null) {
                    feed.changed(batch);
                } else {
                    feed.gone();
                }
            }
        }
    }

    /** Whether someone follows the batch's log live here (the log tailer's pace depends on it). */
    boolean followsLog(int batchId) {
        Set<Feed> set = feeds.get(batchId);
        return set != null && set.stream().anyMatch(f -> f instanceof LogFollower);
    }

    int followers(int batchId) {
        Set<Feed> set = feeds.get(batchId);
        return set == null ? 0 : set.size();
    }

    private Subscription register(Feed feed) {
        feeds.computeIfAbsent(feed.batchId(), k -> ConcurrentHashMap.newKeySet()).add(feed);
        // A change between the snapshot the feed started from and its registration is caught here.
        feed.wake();
        return feed;
    }

    private void unregister(Feed feed) {
        feeds.computeIfPresent(feed.batchId(), (k, set) -> {
            set.remove(feed);
            return set.isEmpty() ? null : set;
        });
    }

    /**
     * A feed runs on the shared executor, never on two threads at once: {@code wake} asks for a run,
     * and runs asked for while one is going are folded into one more pass.
     */
    private abstract class Pass implements Subscription {
        private final AtomicInteger wip = new AtomicInteger();
        private final AtomicBoolean done = new AtomicBoolean();
        private volatile RuntimeException closing;

        @Override
        public void wake() {
            if (wip.getAndIncrement() == 0) {
                executor.execute(this::run);
            }
        }

        void close(RuntimeException cause) {
            closing = cause;
            wake();
        }

        private void run() {
            int missed = 1;
            do {
                RuntimeException closeCause = closing;
                if (closeCause != null && !done.get()) {
                    interrupted(closeCause);
                    finish();
                } else if (!done.get()) {
                    try {
                        drain();
                    } catch (RuntimeException e) {
                        log.debug("{}: feed failed", this, e);
                        if (!isDone()) {
                            failed(e);
                            finish();
                        }
                    }
                }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }

        /** Sends what can be sent now; calls {@link #finish()} after the last message. */
        abstract void drain();

        /**
         * Tells the sink the feed broke; by default as {@link #interrupted}. A log follower overrides it: a
         * deleted batch's log vanishing mid-read ends as the batch did.
         */
        void failed(RuntimeException e) {
            interrupted(e);
        }

        /** Tells the sink the feed was ended by the server, whatever the batch's state: the client resumes elsewhere. */
        abstract void interrupted(RuntimeException cause);

        void finish() {
            if (done.compareAndSet(false, true)) {
                detach();
            }
        }

        /** Stops the feed's source from waking it. */
        abstract void detach();

        boolean isDone() {
            return done.get();
        }

        @Override
        public void cancel() {
            finish();
        }
    }

    /** A feed of one batch. */
    private abstract class Feed extends Pass {
        protected volatile Batch latest;

        Feed(Batch batch) {
            this.latest = batch;
        }

        int batchId() {
            return latest.id();
        }

        void changed(Batch batch) {
            if (batch.history().size() >= latest.history().size()) {
                latest = batch;
            }
            wake();
        }

        /** Replicas: the batch was deleted through another replica; the feed ends as deleted (killed). */
        void gone() {
            Batch seen = latest;
            if (!seen.state().isFinal()) {
                changed(seen.withState(new StateChange(io.sparkgate.server.values.BatchState.KILLED,
                        java.time.Instant.now(), "deleted")));
            }
        }

        @Override
        void detach() {
            unregister(this);
        }

        @Override
        public String toString() {
            return "batch " + batchId();
        }
    }

    private final class LogFollower extends Feed {
        private final LogSink sink;
        private long cursor;

        LogFollower(Batch batch, long from, LogSink sink) {
            super(batch);
            this.sink = requireNonNull(sink, "sink");
            this.cursor = from;
        }

        @Override
        void drain() {
            while (!isDone() && sink.isReady()) {
                // The state first: a final state means the log was complete before it was saved.
                Batch seen = latest;
                LogPage page = logs.read(seen.id(), cursor, PAGE);
                List<String> lines = page.lines();
                if (lines.isEmpty()) {
                    if (seen.state().isFinal() && cursor >= page.total()) {
                        sink.end(seen.state());
                        finish();
                    }
                    return;
                }
                sink.lines(cursor, lines);
                cursor += lines.size();
            }
        }

        @Override
        void failed(RuntimeException e) {
            Batch seen = latest;
            if (seen.state().isFinal()) {
                sink.end(seen.state());
            } else {
                sink.fail(e);
            }
        }

        @Override
        void interrupted(RuntimeException cause) {
            sink.fail(cause);
        }
    }

    private final class StateWatcher extends Feed {
        private final StateSink sink;
        private int sent;

        StateWatcher(Batch batch, StateSink sink) {
            super(batch);
            this.sink = requireNonNull(sink, "sink");
            this.sent = batch.history().size() - 1;
        }

        @Override
        void drain() {
            Batch seen = latest;
            List<StateChange> history = seen.history();
            while (sent < history.size()) {
                sink.change(history.get(sent++));
            }
            if (seen.state().isFinal()) {
                sink.end();
                finish();
            }
        }

        @Override
        void interrupted(RuntimeException cause) {
            sink.fail(cause);
        }
    }

    /**
     * A watcher of all batches. Holds at most one pending batch per batch id (the newest: a client that
     * reads slowly skips intermediate versions of one batch, never a batch), so a stalled client costs
     * at most one entry per batch that changed meanwhile.
     */
    private final class AllBatchesWatcher extends Pass {
        private final BatchFilter visible;
        private final BatchSink sink;
        /** Guarded by itself; filled by the changing threads, emptied by the feed's run. */
        private final Map<Integer, Batch> pending = new java.util.LinkedHashMap<>();

        AllBatchesWatcher(BatchFilter visible, BatchSink sink) {
            this.visible = requireNonNull(visible, "visible");
            this.sink = requireNonNull(sink, "sink");
        }

        void changed(Batch batch) {
            if (!visible.matches(batch)) {
                return;
            }
            synchronized (pending) {
                Batch before = pending.get(batch.id());
                if (before == null || batch.history().size() >= before.history().size()) {
                    pending.put(batch.id(), batch);
                }
            }
            wake();
        }

        @Override
        void drain() {
            while (!isDone() && sink.isReady()) {
                Batch next;
                synchronized (pending) {
                    var it = pending.values().iterator();
                    if (!it.hasNext()) {
                        return;
                    }
                    next = it.next();
                    it.remove();
                }
                sink.batch(next);
            }
        }

        @Override
        void interrupted(RuntimeException cause) {
            sink.fail(cause);
        }

        @Override
        void detach() {
            watchers.remove(this);
        }

        @Override
        public String toString() {
            return "all-batches watcher";
        }
    }
}
