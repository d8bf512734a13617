package io.sparkgate.server.batch;

import io.sparkgate.server.values.AdmissionLimitException;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchConflictException;
import io.sparkgate.server.values.BatchFilter;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.values.StateChange;
import io.sparkgate.server.values.Text;

import com.linecorp.armeria.common.util.ThreadFactories;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.AdmissionSettings;
import io.sparkgate.server.launch.AppExit;
import io.sparkgate.server.launch.LaunchException;
import io.sparkgate.server.launch.LaunchListener;
import io.sparkgate.server.launch.LaunchedApp;
import io.sparkgate.server.launch.Launcher;
import io.sparkgate.server.launch.RecordedLaunch;
import io.sparkgate.server.logs.LogPage;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.logs.LogTailer;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.RequestIdTakenException;
import io.sparkgate.server.store.StoredBatch;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of every batch. The only place batch state changes: each change gets a time and a reason,
 * is saved before anyone is told, and final states are final.
 *
 * <p>Launching is asynchronous: {@link #create} records the batch and returns; a small pool starts
 * {@code spark-submit}. Admission is bounded ({@link LaunchQueue}): batches over the limits on starting
 * and running batches wait as {@code not_started}; past the limit on waiting batches, creates are
 * refused before anything is recorded.
 */
public final class BatchManager implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BatchManager.class);

    /** Lines of log a Batch carries, as Livy's batch object does. */
    public static final int BATCH_LOG_TAIL = 10;
    public static final int DEFAULT_PAGE_SIZE = 100;

    /** Longest client request id (CreateBatchRequest.request_id). */
    private static final int MAX_REQUEST_ID_LENGTH = 255;

    /** How long {@link #close()} waits for launched applications to connect back, at most. */
    static final Duration DEFAULT_HANDOVER = Duration.ofSeconds(30);
    private static final Duration HANDOVER_POLL = Duration.ofMillis(50);

    private final BatchStore store;
    private final LogStore logs;
    private final LogTailer tailer;
    private final Launcher launcher;
    private final Clock clock;
    private final ExecutorService launchPool;
    private final LaunchQueue launches;
    private final Duration retryAfter;
    private final ConcurrentMap<Integer, Runtime> runtimes = new ConcurrentHashMap<>();
    private final BatchCache cache = new BatchCache();
    private final ExecutorService feedPool;
    private final BatchFeeds feeds;
    private final BatchMetrics metrics;
    /** Set by {@link #close}: no launch starts from then on (the next server start queues them again). */
    private volatile boolean closing;
    /**
     * Set by {@link #close} once launches are handed over: from then on what applications report is
     * not saved (the store is about to close); the next start reconciles their batches from their
     * processes and exit codes.
     */
    private volatile boolean closed;

    public BatchManager(BatchStore store, LogStore logs, LogTailer tailer, Launcher launcher,
                        AdmissionSettings admission, Clock clock) {
        this(store, logs, tailer, launcher, admission, clock, BatchMetrics.NONE);
    }

    /** @param metrics told of every state change, after it is saved */
    public BatchManager(BatchStore store, LogStore logs, LogTailer tailer, Launcher launcher,
                        AdmissionSettings admission, Clock clock, BatchMetrics metrics) {
        this.metrics = requireNonNull(metrics, "metrics");
        this.store = requireNonNull(store, "store");
        this.logs = requireNonNull(logs, "logs");
        this.tailer = requireNonNull(tailer, "tailer");
        this.launcher = requireNonNull(launcher, "launcher");
        this.clock = requireNonNull(clock, "clock");
        // No more launches run at once than batches may be starting.
        this.launchPool = Executors.newFixedThreadPool(admission.maxStarting(),
                ThreadFactories.newThreadFactory("sparkgate-launch", true));
        this.launches = new LaunchQueue(admission, launchPool, this::launch);
        this.retryAfter = admission.retryAfter();
        // Feeds only read the page cache and hand messages to non-blocking writers.
        this.feedPool = Executors.newFixedThreadPool(2, ThreadFactories.newThreadFactory("sparkgate-feeds", true));
        this.feeds = new BatchFeeds(logs, feedPool);
        logs.addListener((batchId, total) -> feeds.linesAdded(batchId));
    }


    /**
     * Records a new batch, then queues its launch. The request is one the submission policy
     * ({@code security.SubmissionPolicy}, the one validator of requests) has accepted.
     *
     * @throws AdmissionLimitException when too many batches wait to start; nothing is recorded
     */
    public Batch create(BatchRequest request, String owner) {
        return create(request, owner, "").batch();
    }

    /**
     * Like {@link #create(BatchRequest, String)}, idempotent by the client's {@code requestId}: when a
     * batch was already created with it from the same request by the same owner, that batch is returned
     * (and nothing launched); concurrent duplicates record and launch exactly one batch.
     *
     * @param requestId the client's idempotency key; empty for none
     * @throws BatchConflictException when {@code requestId} was used for a different request
     */
    public Created create(BatchRequest request, String owner, String requestId) {
        launcher.check(request);
        if (requestId.length() > MAX_REQUEST_ID_LENGTH) {
            throw new InvalidBatchRequestException("'requestId' may have at most " + MAX_REQUEST_ID_LENGTH
                    + " characters, got " + requestId.length());
        }
        if (requestId.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new InvalidBatchRequestException("'requestId' may not contain control characters");
        }
        if (!requestId.isEmpty()) {
            Optional<Batch> existing = store.findByRequestId(requestId);
            if (existing.isPresent()) {
                return replay(existing.get(), request, owner, requestId);
            }
        }
        LaunchQueue.Ticket ticket = launches.reserve(owner);
        if (ticket.grant() == LaunchQueue.Grant.FULL) {
            throw new AdmissionLimitException(ticket.reason(), retryAfter);
        }
        Batch batch;
        try {
            String submitted = "submitted" + ignoredConf(request).stream()
                    .map(k -> "; " + ignoredConfNotice(k)).collect(java.util.stream.Collectors.joining());
            StateChange first = ticket.grant() == LaunchQueue.Grant.START
                    ? new StateChange(BatchState.STARTING, now(), submitted)
                    : new StateChange(BatchState.NOT_STARTED, now(), submitted + "; " + ticket.reason());
            Batch draft = new Batch(-1, request, owner, "", "", "", List.of(first), now());
            int id = store.insert(draft, requestId);
            batch = new Batch(id, request, owner, "", "", "", draft.history(), draft.createdTime());
            Runtime rt = runtimes.computeIfAbsent(id, k -> new Runtime()); // a delete that came first keeps its mark
            synchronized (rt) {
                if (!rt.deleted) {
                    cache.wrote(batch);
                }
            }
        } catch (RequestIdTakenException e) {
            // A concurrent create with the same request id won the database's unique constraint.
            launches.release(ticket);
            return replay(store.findByRequestId(requestId).orElseThrow(() ->
                    new BatchConflictException("request id '" + requestId + "' was used by a batch just deleted")),
                    request, owner, requestId);
        } catch (RuntimeException e) {
            launches.release(ticket);
            throw e;
        }
        int id = batch.id();
        notifyListeners(batch);
        launches.submit(id, ticket);
        if (current(id).map(b -> b.state().isFinal()).orElse(true)) {
            launches.ended(id); // deleted before it was submitted: its place must not stay taken
        }
        return new Created(batch, false);
    }

    private static Created replay(Batch existing, BatchRequest request, String owner, String requestId) {
        if (!existing.request().equals(request) || !existing.owner().equals(owner)) {
            throw new BatchConflictException("request id '" + requestId + "' was already used for batch "
                    + existing.id() + " with a different request");
        }
        return new Created(existing, true);
    }

    public Batch get(int id) {
        return current(id).orElseThrow(() -> new BatchNotFoundException(id));
    }

    /**
     * The batch a REST path segment names, as Livy reads it: a number is an id, anything else a name,
     * and a name means the newest batch of that name (names need not be unique here).
     *
     * @param visibleTo when present, only batches this user owns or runs as are looked up by name
     * @throws BatchNotFoundException when there is no such batch
     */
    public Batch get(String idOrName, Optional<String> visibleTo) {
        try {
            return get(Integer.parseInt(idOrName));
        } catch (NumberFormatException notANumber) {
            // Its current copy, as by id (the cache may hold a newer one than the store row read here).
            return store.findNewestNamed(idOrName, visibleTo).map(b -> get(b.id()))
                    .orElseThrow(() -> new BatchNotFoundException(idOrName));
        }
    }

    /** The newest copy of a batch: from the cache, else from the store (and cached when final). */
    private Optional<Batch> current(int id) {
        Batch cached = cache.get(id);
        if (cached != null) {
            return Optional.of(cached);
        }
        return load(List.of(id)).stream().findFirst();
    }

    /** Reads batches from the store, keeping the final ones (with their log tails) in the cache. */
    private List<Batch> load(List<Integer> ids) {
        long stamp = cache.stamp();
        List<StoredBatch> stored = store.getAll(ids);
        List<Batch> out = new ArrayList<>(stored.size());
        for (StoredBatch s : stored) {
            cache.loaded(stamp, s.batch(), s.logTail().orElse(null));
            out.add(s.batch());
        }
        return out;
    }

    /**
     * The last lines of a batch's log, as carried on the Batch object: for a final batch as recorded
     * when its output was drained (no file opened), for a live one from its log.
     */
    public List<String> logTail(Batch batch) {
        int id = batch.id();
        if (batch.state().isFinal()) {
            BatchCache.Final cached = cache.getFinal(id);
            if (cached != null && cached.logTail() != null) {
                return cached.logTail();
            }
            long stamp = cache.stamp();
            List<String> tail = logs.tail(id, BATCH_LOG_TAIL);
            Runtime rt = runtimes.get(id);
            if (rt == null || rt.app == null) { // else its application still writes (killed, not yet gone)
                cache.loaded(stamp, batch, tail);
            }
            return tail;
        }
        return logs.tail(id, BATCH_LOG_TAIL);
    }

    /**
     * A page of the batch list in ascending id order.
     *
     * @param from index of the first batch; 0 when empty
     * @param size most batches; {@value #DEFAULT_PAGE_SIZE} when empty, all when negative
     */
    public BatchPage list(OptionalInt from, OptionalInt size) {
        return list(from, size, Optional.empty());
    }

    /**
     * Like {@link #list(OptionalInt, OptionalInt)}; with {@code onlyOf}, over the batches that user owns
     * or runs as (proxy user) only, {@code total} included.
     */
    public BatchPage list(OptionalInt from, OptionalInt size, Optional<String> onlyOf) {
        int start = nonNegative("from", from, 0);
        int count = listSize(size);
        return list(start, count, BatchFilter.all(onlyOf));
    }

    /**
     * A page of the batches {@code filter} holds, in its order, {@code total} counting them all.
     *
     * @param from index of the first batch; 0 when empty
     * @param size most batches; {@value #DEFAULT_PAGE_SIZE} when empty, all when negative
     */
    public BatchPage list(OptionalInt from, OptionalInt size, BatchFilter filter) {
        int start = nonNegative("from", from, 0);
        int count = listSize(size);
        return list(start, count, filter);
    }

    /** As on Livy (and on the log): a negative size means all batches. */
    private static int listSize(OptionalInt size) {
        int count = size.orElse(DEFAULT_PAGE_SIZE);
        return count < 0 ? Integer.MAX_VALUE : count;
    }

    /**
     * One query for a page of cached batches (the page's ids with the total); two more (rows with their
     * log tails, histories) for the batches not cached, all of them at once.
     */
    private BatchPage list(int start, int count, BatchFilter filter) {
        BatchStore.PageIds idPage = store.page(filter, start, count);
        List<Integer> ids = idPage.ids();
        int total = idPage.total();
        Map<Integer, Batch> found = new HashMap<>(ids.size() * 2);
        List<Integer> missing = new ArrayList<>();
        for (int id : ids) {
            Batch cached = cache.get(id);
            if (cached != null) {
                found.put(id, cached);
            } else {
                missing.add(id);
            }
        }
        if (!missing.isEmpty()) {
            load(missing).forEach(b -> found.put(b.id(), b));
        }
        List<Batch> page = new ArrayList<>(ids.size());
        for (int id : ids) {
            Batch b = found.get(id);
            if (b != null) { // else deleted between the two reads
                page.add(b);
            }
        }
        return new BatchPage(start, total, page);
    }

    /**
     * A page of a batch's log, with Livy's rules: {@code size} defaults to 100 and a negative size
     * means all; a missing or negative {@code from} means the tail, {@code max(0, total - size)}.
     */
    public LogPage log(Batch batch, OptionalInt from, OptionalInt size) {
        int id = batch.id();
        int count = size.orElse(DEFAULT_PAGE_SIZE);
        long start;
        if (from.isPresent() && from.getAsInt() >= 0) {
            start = from.getAsInt();
        } else {
            start = count < 0 ? 0 : Math.max(0, logs.total(id) - count);
        }
        return logs.read(id, start, count);
    }

    /**
     * Follows a batch's log: every line from {@code from} (default 0) on, then live lines, then the
     * final state once the batch is final and its log drained.
     */
    public Subscription followLog(Batch batch, OptionalInt from, LogSink sink) {
        return feeds.followLog(batch, nonNegative("from", from, 0), sink);
    }

    /**
     * The rule for list and stream offsets and sizes: absent means {@code fallback}, negative is refused.
     * Public so that a protocol adapter can check its arguments before it looks a batch up (a bad argument
     * is INVALID_ARGUMENT whether or not the batch exists).
     */
    public static int nonNegative(String name, OptionalInt value, int fallback) {
        int v = value.orElse(fallback);
        if (v < 0) {
            throw new InvalidBatchRequestException("'" + name + "' must be >= 0, got " + v);
        }
        return v;
    }

    /** Watches a batch's state: its state at once, then every change, ending after a final one. */
    public Subscription watch(Batch batch, StateSink sink) {
        return feeds.watch(batch, sink);
    }

    /**
     * Ends every open log follow and watch with {@code fail(cause)} (the server is draining), so
     * that their clients resume on another server; the batches themselves go on.
     */
    public void endStreams(RuntimeException cause) {
        feeds.closeAll(cause);
    }

    /**
     * Every later change of every batch {@code visible} holds (its state filters are not applied: a
     * watcher sees a batch leave its filter too), as the batch after the change.
     */
    public Subscription watchAll(BatchFilter visible, BatchSink sink) {
        return feeds.watchAll(visible, sink);
    }

    /** Number of log followers and state watchers attached to a batch. */
    public int followers(int id) {
        return feeds.followers(id);
    }

    /** Kills the batch's application if it still runs, then forgets the batch. */
    public void delete(int id, String byUser) {
        Batch batch = get(id);
        Runtime rt = runtimes.computeIfAbsent(id, k -> new Runtime());
        LaunchedApp app;
        synchronized (rt) {
            rt.deleted = true;
            app = rt.app;
        }
        if (!batch.state().isFinal()) {
            transition(id, BatchState.KILLED, byUser.isEmpty() ? "deleted by user" : "deleted by user " + byUser);
        }
        synchronized (rt) { // not between a concurrent change's save and its cache write
            store.delete(id);
            cache.deleted(id);
        }
        launches.ended(id);
        if (app != null) {
            app.kill(); // its log goes when its process is gone (onExit)
        } else {
            runtimes.remove(id);
            logs.delete(id);
        }
    }

    private void launch(int id) {
        if (closing) {
            log.debug("batch {}: not launched, the server is stopping", id);
            return; // recorded unlaunched: the next start queues it again
        }
        try {
            Runtime rt = runtimes.get(id);
            if (rt == null || rt.deleted) {
                launches.ended(id);
                return;
            }
            Batch batch = get(id);
            if (batch.state().isFinal()) {
                launches.ended(id);
                return; // ended while queued (its deadline passed)
            }
            if (batch.state() == BatchState.NOT_STARTED) {
                transition(id, BatchState.STARTING, "its turn to start");
            }
            LaunchedApp app;
            try {
                for (String key : ignoredConf(batch.request())) {
                    logs.append(id, Text.NOTICE + ignoredConfNotice(key));
                }
                app = launcher.launch(id, launchable(batch.request()), logs.batchDir(id), logs.outputFile(id),
                        new Events(id));
            } catch (LaunchException e) {
                logs.append(id, Text.NOTICE + e.getMessage());
                if (transition(id, BatchState.DEAD, e.getMessage()) != null) {
                    metrics.launchFailed(BatchMetrics.LaunchFailure.SUBMIT_FAILED);
                }
                recordLogTail(id);
                return;
            }
            boolean killNow;
            synchronized (rt) {
                rt.app = app;
                killNow = rt.deleted || current(id).map(b -> b.state().isFinal()).orElse(true);
            }
            follow(id, rt, app);
            if (killNow) {
                app.kill();
            }
        } catch (BatchNotFoundException e) {
            launches.ended(id); // deleted while queued: nothing to launch
        } catch (RuntimeException e) {
            log.error("batch {}: launch failed", id, e);
            if (transition(id, BatchState.DEAD, "launch failed: " + e) != null) {
                metrics.launchFailed(BatchMetrics.LaunchFailure.INTERNAL);
            }
        }
    }

    /**
     * Indexes the application's output until it ends, then ends the batch. On the way, saves how to
     * find the application's process again after a restart, as soon as the launcher knows it.
     */
    private void follow(int id, Runtime rt, LaunchedApp app) {
        tailer.follow(id, () -> {
            if (closed) {
                return false; // the next server follows it on
            }
            if (!rt.launchSaved) {
                app.launchInfo().ifPresent(info -> {
                    store.saveLaunch(id, info);
                    rt.launchSaved = true;
                });
            }
            return app.hasEnded();
        }, () -> ended(id, app.exit()));
    }

    /**
     * Recovery: finds the application of a batch that an earlier server process launched, and follows
     * it as if launched now. An application that ended meanwhile ends the batch at once, after the rest
     * of its output is indexed.
     *
     * @return false when the launcher cannot find the application (the batch is left as it is)
     */
    boolean reattach(Batch batch, RecordedLaunch recorded) {
        int id = recorded.batchId();
        Runtime rt = new Runtime();
        runtimes.put(id, rt);
        cache.wrote(batch); // ours from now on: every change to it is made here
        // It holds its place from now on; before the launcher looks, which may already report it running.
        launches.adopt(id, batch.owner(), batch.state() == BatchState.STARTING);
        Optional<LaunchedApp> found = launcher.reattach(recorded, new Events(id));
        if (found.isEmpty()) {
            runtimes.remove(id);
            launches.ended(id);
            return false;
        }
        LaunchedApp app = found.get();
        rt.app = app;
        rt.launchSaved = recorded.process().isPresent();
        if (app.hasEnded()) {
            logs.advance(id, true);
            ended(id, app.exit());
        } else {
            follow(id, rt, app);
        }
        return true;
    }

    /**
     * Recovery: queues the launch of a recorded batch that was never launched, whatever the limit on
     * waiting batches (it was accepted once). Call it for such batches in id order, after
     * {@link #reattach} for all launched ones, so that they count against the limits first.
     *
     * @return what it waits for; empty when it starts now
     */
    Optional<String> relaunch(Batch batch) {
        int id = batch.id();
        runtimes.put(id, new Runtime());
        cache.wrote(batch); // ours from now on: every change to it is made here
        if (batch.state() == BatchState.STARTING) {
            // Never launched: it waits like any other until its turn.
            transition(id, BatchState.NOT_STARTED, "server restarted before its launch; queued again");
        }
        return launches.enqueue(id, batch.owner());
    }

    /** Ends a batch that is not final yet: {@code dead} with the reason, killing its application if it runs. */
    void end(int id, String reason) {
        BatchState from = transition(id, BatchState.DEAD, reason);
        if (from == BatchState.NOT_STARTED) {
            metrics.launchFailed(BatchMetrics.LaunchFailure.WAIT_TIMEOUT);
        } else if (from == BatchState.STARTING) {
            metrics.launchFailed(BatchMetrics.LaunchFailure.START_TIMEOUT);
        }
        Runtime rt = runtimes.get(id);
        LaunchedApp app = rt == null ? null : rt.app;
        if (app != null) {
            app.kill();
        }
    }

    /** Saves a change of a batch that is not a state change (app id, links). */
    private void update(int id, java.util.function.UnaryOperator<Batch> change) {
        Runtime rt = runtimes.get(id);
        if (rt == null) {
            return;
        }
        Batch next;
        synchronized (rt) {
            Batch current = current(id).orElse(null);
            if (current == null) {
                return;
            }
            next = change.apply(current);
            if (!store.save(next)) {
                return; // deleted meanwhile
            }
            cache.wrote(next);
        }
        notifyListeners(next);
    }

    /** The application ended and its output is indexed: the batch's final state. */
    private void ended(int id, AppExit exit) {
        Runtime rt = runtimes.get(id);
        boolean deleted;
        if (rt == null) {
            deleted = true;
        } else {
            synchronized (rt) { // a delete from now on finds no application and removes the log itself
                deleted = rt.deleted;
                rt.app = null;
            }
        }
        BatchState state = switch (exit.outcome()) {
            case SUCCEEDED -> BatchState.SUCCESS;
            case FAILED -> BatchState.DEAD;
            case KILLED -> BatchState.KILLED;
        };
        // The final state first: it is what a client waits for, and the exit code it was decided by is in
        // its reason. The exit code's own column is a record for later reads, written right after.
        if (transition(id, state, exit.reason()) == BatchState.STARTING && state == BatchState.DEAD) {
            metrics.launchFailed(BatchMetrics.LaunchFailure.FAILED_BEFORE_RUNNING);
        }
        if (deleted) {
            runtimes.remove(id);
            logs.delete(id);
        } else {
            exit.exitCode().ifPresent(code -> store.saveExitCode(id, code));
            recordLogTail(id);
        }
    }

    /** Records the final log tail of a batch whose application is gone, so reading it opens no file. */
    private void recordLogTail(int id) {
        List<String> tail = logs.tail(id, BATCH_LOG_TAIL);
        store.saveLogTail(id, tail);
        cache.wroteLogTail(id, tail);
    }

    /**
     * Moves a batch to a new state unless it is gone or already final.
     *
     * @return the state it left; null when nothing changed
     */
    private BatchState transition(int id, BatchState state, String reason) {
        Runtime rt = runtimes.get(id);
        Object lock = rt == null ? this : rt;
        Batch next;
        BatchState from;
        synchronized (lock) {
            Batch current = current(id).orElse(null);
            if (current == null || current.state().isFinal() || current.state() == state) {
                return null;
            }
            from = current.state();
            next = current.withState(new StateChange(state, now(), reason));
            if (!store.save(next)) {
                return null; // deleted meanwhile
            }
            cache.wrote(next);
        }
        log.info("batch {}: {} ({})", id, state.livyName(), reason);
        metrics.changed(next, from);
        notifyListeners(next);
        if (state.isFinal()) {
            launches.ended(id);
        } else if (state == BatchState.RUNNING) {
            launches.started(id);
        }
        return from;
    }

    /**
     * Now, to the microsecond: what the store keeps (PostgreSQL's precision), so that a batch served from
     * the cache and the same batch read back from the store look the same.
     */
    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private void notifyListeners(Batch batch) {
        feeds.changed(batch);
    }

    /**
     * The request's conf keys that are no Spark property (not {@code spark.*}), sorted. As on Livy they
     * are accepted, and as spark-submit itself does with such keys they are ignored with a warning: they
     * are dropped before the launch (SparkLauncher refuses them), said in the first state's reason and as
     * the first lines of the batch's log. Real DAGs carry such keys (Hadoop keys written without
     * {@code spark.hadoop.}, Livy's own {@code livy.rsc.*}).
     */
    static List<String> ignoredConf(BatchRequest request) {
        return request.conf().keySet().stream().filter(k -> !k.startsWith("spark.")).sorted().toList();
    }

    /** The line of the batch log, and the words of the first reason, for one ignored key. */
    static String ignoredConfNotice(String key) {
        return "ignoring non-Spark config property: " + Text.shown(key);
    }

    /** The request as launched: without the keys {@link #ignoredConf} names. */
    private static BatchRequest launchable(BatchRequest request) {
        List<String> ignored = ignoredConf(request);
        if (ignored.isEmpty()) {
            return request;
        }
        Map<String, String> conf = new java.util.HashMap<>(request.conf());
        conf.keySet().removeAll(ignored);
        return request.withConf(conf);
    }

    /** {@link #close(Duration)} with the default bound on the hand-over. */
    @Override
    public void close() {
        close(DEFAULT_HANDOVER);
    }

    /**
     * Stops launching, in an order that loses no batch: no new launch starts; launches under way finish;
     * applications launched by this process are given up to {@code handover} to connect back to it
     * ({@link LaunchedApp#handedOver}), since a SparkContext that finds its launcher gone fails; then what
     * applications report is no longer saved, so that the store can close. Running applications are left
     * running: their batches are recorded durably and the next server start re-attaches them (and
     * launches the batches still queued). Called once, by the thread that stops the server.
     */
    public void close(Duration handover) {
        long deadline = System.nanoTime() + handover.toNanos();
        closing = true;
        // Not shutdownNow: interrupting a thread in the middle of a store write closes H2's file channel.
        launchPool.shutdown();
        try {
            if (!launchPool.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS)) {
                log.warn("stopping: launches still under way after {}", handover);
            }
            List<Integer> waiting = notHandedOver();
            boolean waited = !waiting.isEmpty();
            if (waited) {
                log.info("stopping: waiting at most {} for batches {} to connect back", handover, waiting);
            }
            while (!waiting.isEmpty() && remaining(deadline) > 0) {
                Thread.sleep(HANDOVER_POLL.toMillis());
                waiting = notHandedOver();
            }
            if (!waiting.isEmpty()) {
                log.warn("stopping: batches {} did not connect back within {}; a SparkContext they start "
                        + "after this process exits fails", waiting, handover);
            } else if (waited) {
                log.info("stopping: every launched application connected back");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true;
        feedPool.shutdownNow();
    }

    private List<Integer> notHandedOver() {
        List<Integer> ids = new ArrayList<>();
        runtimes.forEach((id, rt) -> {
            LaunchedApp app = rt.app;
            if (app != null && !app.handedOver()) {
                ids.add(id);
            }
        });
        ids.sort(null);
        return ids;
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    /** What the manager knows of a batch beyond its stored state. */
    private static final class Runtime {
        volatile LaunchedApp app;
        volatile boolean deleted;
        volatile boolean launchSaved;
    }

    /** Events from one batch's application. */
    private final class Events implements LaunchListener {
        private final int id;

        Events(int id) {
            this.id = id;
        }

        // After close the store may be gone: the next start reconciles what is dropped here.
        @Override
        public void onRunning(String reason) {
            if (!closed) {
                transition(id, BatchState.RUNNING, reason);
            }
        }

        @Override
        public void onExited() {
            tailer.wake(); // its end is read on the next tick: now, not up to a tick later
        }

        @Override
        public void onAppId(String appId) {
            if (!closed) {
                update(id, b -> b.withAppId(appId));
            }
        }

        @Override
        public void onAppInfo(String sparkUiUrl, String driverLogUrl) {
            if (!closed) {
                update(id, b -> b.withAppInfo(sparkUiUrl, driverLogUrl));
            }
        }
    }
}
