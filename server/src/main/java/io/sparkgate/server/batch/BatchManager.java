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
import io.sparkgate.server.store.BatchLeases;
import io.sparkgate.server.store.Lease;
import io.sparkgate.server.store.LeaseLostException;
import io.sparkgate.server.store.RequestIdTakenException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of every batch: the only place batch state changes. Each change gets a time and a reason, is
 * saved before anyone is told, and final states are final.
 *
 * <p>Every live batch has one {@link BatchOwner}, and every change of a batch runs on its owner's serial
 * executor: API calls wait there for their answer (create's first write aside: the batch is not known to
 * anyone before it), while the launch pool, the log tailer and the launchers' listeners (the YARN
 * tracker) only post events to it and never touch the store themselves. So two changes of one batch never
 * race, and a slow store write for one batch holds up that batch alone.
 *
 * <p>Launching is asynchronous: {@link #create} records the batch and returns; a small pool starts
 * {@code spark-submit}. Admission is bounded ({@link LaunchQueue}): batches over the limits on starting
 * and running batches wait as {@code not_started}; past the limit on waiting batches, creates are
 * refused before anything is recorded. Reads are {@link BatchReads}'; log follows and watches are
 * {@link BatchFeeds}'.
 *
 * <p>With replicas (a store shared with other servers), every change of a batch is made by the replica
 * holding its lease; the leases, fenced writes, log copies and polls are {@link ReplicaRole}'s, and
 * what this class decides with them (let a lost batch go, carry out a kill asked for elsewhere, wait
 * again when another replica took the last place) stays here, on the batch's owner.
 *
 * <p>Over 300 lines because it is the whole state machine of a batch (create, launch, follow, end,
 * delete, re-attach after a restart, hand over to another replica), which reads best in one place.
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
    private final AdmissionSettings admission;
    /** The owners of the batches this server created or re-attached; see {@link BatchOwner}. */
    private final ConcurrentMap<Integer, BatchOwner> owners = new ConcurrentHashMap<>();
    /** Threads the owners' serial executors run on; a blocked owner holds one, the others go on. */
    private final ExecutorService ownerPool;
    /**
     * Replicas: as many takeovers at once as the store has connections (PostgreSQL's pool): more would
     * only queue on it, each with a thread of its own, and hundreds of runnable threads (a dead replica's
     * batches) would starve the lease keeper's thread of the CPU it needs to hand them out.
     */
    static final int TAKEOVERS_AT_ONCE = 8;
    /** Replicas: the threads that wait, each, while a claimed batch's owner takes it over. */
    private final ExecutorService takeoverPool;
    private final BatchCache cache = new BatchCache();
    private final BatchReads reads;
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
    /**
     * Replicas (a store shared with other servers): this server's part among them; set once by
     * {@link #joinReplicas} before the server serves; null on a server of its own.
     */
    private volatile ReplicaRole replica;
    private final BatchLogs batchLogs;

    /**
     * What this server is among the replicas sharing its store.
     *
     * @param keeper its leases
     * @param leases the store's leases, for what a non-holder may do (record a kill request)
     * @param home its host and data directory, where its local-mode drivers run
     */
    record Replica(LeaseKeeper keeper, BatchLeases leases, String home) {}

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
        this.ownerPool = Executors.newCachedThreadPool(ThreadFactories.newThreadFactory("sparkgate-batch", true));
        this.takeoverPool = Executors.newFixedThreadPool(TAKEOVERS_AT_ONCE,
                ThreadFactories.newThreadFactory("sparkgate-takeover", true));
        this.batchLogs = new BatchLogs(logs, this::heldHere);
        this.reads = new BatchReads(store, batchLogs, cache, id -> {
            BatchOwner owner = owners.get(id);
            return owner != null && owner.app != null;
        });
        // No more launches run at once than batches may be starting.
        this.launchPool = Executors.newFixedThreadPool(admission.maxStarting(),
                ThreadFactories.newThreadFactory("sparkgate-launch", true));
        this.launches = new LaunchQueue(admission, launchPool, this::launch);
        this.retryAfter = admission.retryAfter();
        this.admission = admission;
        // Feeds only read the page cache and hand messages to non-blocking writers.
        this.feedPool = Executors.newFixedThreadPool(2, ThreadFactories.newThreadFactory("sparkgate-feeds", true));
        this.feeds = new BatchFeeds(batchLogs, feedPool);
        logs.addListener((batchId, total) -> {
            feeds.linesAdded(batchId);
            ReplicaRole role = replica;
            if (role != null) {
                role.linesAdded(batchId);
            }
        });
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
        try {
            return createLater(request, owner, requestId).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * {@link #create}, answered through a future: what it refuses before recording anything (bad input,
     * the admission limit) it throws at once; the future completes once the batch is recorded durably, so
     * the caller's thread is free meanwhile. Concurrent creates share one commit (the store's group
     * commit), and what follows it (the batch's launch) runs on the thread that committed.
     */
    public CompletableFuture<Created> createLater(BatchRequest request, String owner, String requestId) {
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
                return CompletableFuture.completedFuture(replay(existing.get(), request, owner, requestId));
            }
        }
        ReplicaRole sharing = replica;
        if (sharing != null) {
            refreshLoad(sharing); // the limits count the other replicas' batches as the database has them now
        }
        LaunchQueue.Ticket ticket = launches.reserve(owner);
        if (ticket.grant() == LaunchQueue.Grant.FULL) {
            throw new AdmissionLimitException(ticket.reason(), retryAfter);
        }
        Batch draft;
        CompletableFuture<Integer> inserted;
        try {
            String submitted = "submitted" + LaunchableRequest.ignoredConf(request).stream()
                    .map(k -> "; " + LaunchableRequest.notice(k)).collect(Collectors.joining());
            StateChange first = ticket.grant() == LaunchQueue.Grant.START
                    ? new StateChange(BatchState.STARTING, now(), submitted)
                    : new StateChange(BatchState.NOT_STARTED, now(), submitted + "; " + ticket.reason());
            draft = new Batch(-1, request, owner, "", "", "", List.of(first), now());
            inserted = store.insertLater(draft, requestId);
        } catch (RuntimeException e) {
            launches.release(ticket);
            throw e;
        }
        return inserted.handle((id, failure) -> {
            if (failure == null) {
                return recorded(new Batch(id, request, owner, "", "", "", draft.history(), draft.createdTime()), ticket);
            }
            launches.release(ticket);
            Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
            if (cause instanceof RequestIdTakenException) {
                // A concurrent create with the same request id won the database's unique constraint.
                return replay(store.findByRequestId(requestId).orElseThrow(() ->
                        new BatchConflictException("request id '" + requestId + "' was used by a batch just deleted")),
                        request, owner, requestId);
            }
            throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
        });
    }

    /** A new batch is recorded: it becomes known and goes to the launch queue. */
    private Created recorded(Batch batch, LaunchQueue.Ticket ticket) {
        ReplicaRole replicas = replica;
        if (replicas != null) {
            // A batch that may start now is this server's to launch; one that must wait is left to
            // whichever replica has room first (their scans claim it).
            Optional<Lease> lease = ticket.grant() == LaunchQueue.Grant.START
                    ? replicas.claim(batch.id()) : Optional.empty();
            if (lease.isEmpty()) {
                launches.release(ticket);
                notifyListeners(batch);
                return new Created(batch, false);
            }
            hold(owner(batch.id()), lease.get()); // a new owner: nothing runs on it before this
        }
        BatchOwner holder = owner(batch.id());
        // First on its executor, before its launch: a delete that came first keeps its mark.
        holder.post(() -> {
            if (!holder.deleted) {
                cache.wrote(batch);
            }
        });
        notifyListeners(batch);
        launches.submit(batch.id(), ticket);
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
        return reads.get(id);
    }

    /**
     * The batch a REST path segment names, as Livy reads it: a number is an id, anything else a name,
     * and a name means the newest batch of that name (names need not be unique here).
     *
     * @param visibleTo when present, only batches this user owns or runs as are looked up by name
     * @throws BatchNotFoundException when there is no such batch
     */
    public Batch get(String idOrName, Optional<String> visibleTo) {
        return reads.get(idOrName, visibleTo);
    }

    /**
     * The last lines of a batch's log, as carried on the Batch object: for a final batch as recorded
     * when its output was drained (no file opened), for a live one from its log.
     */
    public List<String> logTail(Batch batch) {
        return reads.logTail(batch, BATCH_LOG_TAIL);
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
        return list(from, size, BatchFilter.all(onlyOf));
    }

    /**
     * A page of the batches {@code filter} holds, in its order, {@code total} counting them all.
     *
     * @param from index of the first batch; 0 when empty
     * @param size most batches; {@value #DEFAULT_PAGE_SIZE} when empty, all when negative (as on Livy)
     */
    public BatchPage list(OptionalInt from, OptionalInt size, BatchFilter filter) {
        int count = size.orElse(DEFAULT_PAGE_SIZE);
        return reads.list(nonNegative("from", from, 0), count < 0 ? Integer.MAX_VALUE : count, filter);
    }

    /**
     * A page of a batch's log, with Livy's rules: {@code size} defaults to 100 and a negative size
     * means all; a missing or negative {@code from} means the tail, {@code max(0, total - size)}.
     */
    public LogPage log(Batch batch, OptionalInt from, OptionalInt size) {
        return reads.log(batch, from, size, DEFAULT_PAGE_SIZE);
    }

    /**
     * Follows a batch's log: every line from {@code from} (default 0) on, then live lines, then the
     * final state once the batch is final and its log drained.
     */
    public Subscription followLog(Batch batch, OptionalInt from, LogSink sink) {
        Subscription follow = feeds.followLog(batch, nonNegative("from", from, 0), sink);
        tailer.wake(); // its lines are indexed now and at the followed pace from here on, not at the next idle tick
        return follow;
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
        Batch batch = get(id); // an unknown batch is NOT_FOUND, not a new owner
        ReplicaRole replicas = replica;
        if (replicas != null && !owners.containsKey(id)) {
            if (batch.state().isFinal()) {
                // Nobody holds a final batch: any replica may remove it.
                store.delete(id);
                cache.deleted(id);
                logs.delete(id);
                return;
            }
            Optional<Lease> claimed = replicas.claim(id);
            if (claimed.isEmpty()) {
                // Another replica holds it: it (or the next holder) kills and removes it at its next
                // renewal; the caller does not wait for that.
                replicas.requestKill(id);
                log.info("batch {}: kill requested from this replica for its holder", id);
                return;
            }
            hold(owner(id), claimed.get()); // nobody held it (waiting for room): removed here and now
        }
        deleteHeld(owner(id), byUser);
    }

    /** Deletes a batch this server holds (or any batch, on a server of its own). */
    private void deleteHeld(BatchOwner owner, String byUser) {
        int id = owner.id;
        owner.run(() -> {
            if (owner.released) {
                requestKill(id); // lost meanwhile: the new holder kills it
                return;
            }
            owner.deleted = true;
            LaunchedApp app = owner.app;
            transition(owner, BatchState.KILLED, byUser.isEmpty() ? "deleted by user" : "deleted by user " + byUser);
            if (owner.released) {
                requestKill(id); // the kill was fenced: another replica holds it now, and kills it
                return;
            }
            store.delete(id);
            cache.deleted(id);
            launches.ended(id);
            if (app != null) {
                app.kill(); // its log goes when its process is gone (ended)
            } else {
                owners.remove(id);
                logs.delete(id);
            }
        });
    }

    /** The owner of a batch, made when the batch is first changed on this server. */
    private BatchOwner owner(int id) {
        return owners.computeIfAbsent(id, k -> new BatchOwner(k, ownerPool));
    }

    /** The launch pool's task, when the queue grants a batch its start: waits while its owner launches it. */
    private void launch(int id) {
        if (closing) {
            log.debug("batch {}: not launched, the server is stopping", id);
            return; // recorded unlaunched: the next start queues it again
        }
        BatchOwner owner = owners.get(id);
        if (owner == null) {
            launches.ended(id); // deleted while queued
            return;
        }
        try {
            owner.run(() -> launchNow(owner));
        } catch (RuntimeException e) {
            log.error("batch {}: launch failed", id, e);
        }
    }

    private void launchNow(BatchOwner owner) {
        int id = owner.id;
        try {
            Batch batch = reads.current(id).orElse(null);
            if (owner.deleted || batch == null || batch.state().isFinal()) {
                launches.ended(id);
                return; // deleted, or ended while queued (its deadline passed)
            }
            if (!admitted(owner, batch)) {
                return; // waits again, or another replica's now
            }
            if (batch.state() == BatchState.NOT_STARTED) {
                transition(owner, BatchState.STARTING, "its turn to start");
            }
            LaunchedApp app;
            try {
                for (String key : LaunchableRequest.ignoredConf(batch.request())) {
                    logs.append(id, Text.NOTICE + LaunchableRequest.notice(key));
                }
                Optional<String> tag = launcher.newTag(id);
                if (!recordLaunchStart(owner, tag)) {
                    return; // another replica holds it now
                }
                app = launcher.launch(id, tag, LaunchableRequest.launchable(batch.request()), logs.batchDir(id),
                        logs.outputFile(id), new Events(owner));
            } catch (LaunchException e) {
                logs.append(id, Text.NOTICE + e.getMessage());
                if (transition(owner, BatchState.DEAD, e.getMessage()) != null) {
                    metrics.launchFailed(BatchMetrics.LaunchFailure.SUBMIT_FAILED);
                }
                recordLogTail(id);
                forget(owner);
                return;
            }
            owner.app = app;
            follow(owner, app);
            if (reads.current(id).map(b -> b.state().isFinal()).orElse(true)) {
                app.kill(); // ended while spark-submit started
            }
        } catch (RuntimeException e) {
            log.error("batch {}: launch failed", id, e);
            if (transition(owner, BatchState.DEAD, "launch failed: " + e) != null) {
                metrics.launchFailed(BatchMetrics.LaunchFailure.INTERNAL);
            }
        }
    }

    /**
     * Indexes the application's output until it ends, then ends the batch. On the way, saves how to
     * find the application's process again after a restart, as soon as the launcher knows it. The
     * tailer's thread only looks; the saves are its owner's.
     */
    private void follow(BatchOwner owner, LaunchedApp app) {
        AtomicBoolean savePosted = new AtomicBoolean(owner.launchSaved);
        tailer.follow(owner.id, () -> {
            if (closed) {
                return false; // the next server follows it on
            }
            if (owner.released) {
                return true; // another replica follows it now: stop here
            }
            if (!savePosted.get()) {
                app.launchInfo().ifPresent(info -> {
                    savePosted.set(true);
                    owner.post(() -> {
                        store.saveLaunch(owner.id, info);
                        owner.launchSaved = true;
                    });
                });
            }
            return app.hasEnded();
        }, () -> owner.post(() -> ended(owner, app.exit())), () -> feeds.followsLog(owner.id));
    }

    /**
     * Recovery: finds the application of a batch that an earlier server process launched, and follows
     * it as if launched now. An application that ended meanwhile ends the batch at once, after the rest
     * of its output is indexed.
     *
     * @return false when the launcher cannot find the application (the batch is left as it is)
     */
    boolean reattach(Batch batch, RecordedLaunch recorded) {
        return reattach(batch, recorded, null);
    }

    /** Replicas: {@link #reattach(Batch, RecordedLaunch)} for a batch this server has just claimed. */
    boolean reattach(Batch batch, RecordedLaunch recorded, Lease lease) {
        BatchOwner owner = owner(recorded.batchId());
        return owner.call(() -> {
            int id = owner.id;
            if (lease != null) {
                hold(owner, lease);
            }
            cache.wrote(batch); // ours from now on: every change to it is made here
            // It holds its place from now on; before the launcher looks, which may already report it running.
            launches.adopt(id, batch.owner(), batch.state() == BatchState.STARTING);
            Optional<LaunchedApp> found = launcher.reattach(recorded, new Events(owner));
            if (found.isEmpty()) {
                if (lease == null) {
                    owners.remove(id);
                }
                launches.ended(id);
                return false; // the caller ends it, under the lease
            }
            LaunchedApp app = found.get();
            owner.app = app;
            owner.launchSaved = recorded.process().isPresent();
            if (app.hasEnded()) {
                logs.advance(id, true);
                ended(owner, app.exit());
            } else {
                follow(owner, app);
            }
            return true;
        });
    }

    /**
     * Recovery: queues the launch of a recorded batch that was never launched, whatever the limit on
     * waiting batches (it was accepted once). Call it for such batches in id order, after
     * {@link #reattach} for all launched ones, so that they count against the limits first.
     *
     * @return what it waits for; empty when it starts now
     */
    Optional<String> relaunch(Batch batch) {
        return relaunch(batch, null, "server restarted before its launch; queued again");
    }

    /**
     * Replicas: {@link #relaunch(Batch)} for a batch this server has just claimed, never launched (new,
     * or its replica was lost before launching it).
     */
    Optional<String> relaunch(Batch batch, Lease lease, String reason) {
        BatchOwner owner = owner(batch.id());
        return owner.call(() -> {
            if (lease != null) {
                hold(owner, lease);
            }
            cache.wrote(batch); // ours from now on: every change to it is made here
            if (batch.state() == BatchState.STARTING) {
                // Never launched: it waits like any other until its turn.
                transition(owner, BatchState.NOT_STARTED, reason);
            }
            return launches.enqueue(batch.id(), batch.owner());
        });
    }

    /** Ends a batch that is not final yet: {@code dead} with the reason, killing its application if it runs. */
    void end(int id, String reason) {
        if (replica != null && !owners.containsKey(id)) {
            return; // another replica's batch: its holder's janitor ends it
        }
        end(owner(id), reason);
    }

    /** Replicas: ends a batch this server has just claimed and cannot run (its driver was on a lost replica). */
    void end(int id, String reason, Lease lease) {
        BatchOwner owner = owner(id);
        hold(owner, lease);
        end(owner, reason);
    }

    /** Replicas: {@link #end(int, String, Lease)} for a batch just claimed and read from the store ({@code batch}). */
    void end(Batch batch, String reason, Lease lease) {
        BatchOwner owner = owner(batch.id());
        hold(owner, lease);
        cache.wrote(batch); // ours from now on: its end needs no second read
        end(owner, reason);
    }

    private void end(BatchOwner owner, String reason) {
        owner.run(() -> {
            BatchState from = transition(owner, BatchState.DEAD, reason);
            if (from == BatchState.NOT_STARTED) {
                metrics.launchFailed(BatchMetrics.LaunchFailure.WAIT_TIMEOUT);
            } else if (from == BatchState.STARTING) {
                metrics.launchFailed(BatchMetrics.LaunchFailure.START_TIMEOUT);
            }
            LaunchedApp app = owner.app;
            if (app != null) {
                app.kill(); // ended() forgets it once its process is gone
            } else if (from != null) {
                owners.remove(owner.id, owner); // final now, with no application: nothing more to own
            } else {
                forget(owner);
            }
        });
    }

    /** Saves a change of a batch that is not a state change (app id, links); on its owner's executor. */
    private void update(BatchOwner owner, UnaryOperator<Batch> change) {
        assert owner.isCurrent() : "batch " + owner.id + " changed off its owner's executor";
        Batch current = reads.current(owner.id).orElse(null);
        if (current == null || owner.deleted) {
            return;
        }
        Batch next = change.apply(current);
        if (!save(owner, current, next)) {
            return; // deleted meanwhile, or another replica's now
        }
        cache.wrote(next);
        notifyListeners(next);
    }

    /** The application ended and its output is indexed: the batch's final state. On its owner's executor. */
    private void ended(BatchOwner owner, AppExit exit) {
        int id = owner.id;
        if (owner.released) {
            logs.release(id); // another replica's now: it ends the batch by what it finds
            return;
        }
        boolean deleted = owner.deleted;
        owner.app = null; // a delete from now on finds no application and removes the log itself
        BatchState state = switch (exit.outcome()) {
            case SUCCEEDED -> BatchState.SUCCESS;
            case FAILED -> BatchState.DEAD;
            case KILLED -> BatchState.KILLED;
        };
        // The final state first: it is what a client waits for, and the exit code it was decided by is in
        // its reason. The exit code's own column is a record for later reads, written right after.
        if (transition(owner, state, exit.reason()) == BatchState.STARTING && state == BatchState.DEAD) {
            metrics.launchFailed(BatchMetrics.LaunchFailure.FAILED_BEFORE_RUNNING);
        }
        if (deleted) {
            owners.remove(id);
            logs.delete(id);
        } else {
            exit.exitCode().ifPresent(code -> store.saveExitCode(id, code));
            recordLogTail(id);
            forget(owner);
        }
    }

    /**
     * Forgets the owner of a batch that is final and has no application, as its owner's last task:
     * kept, every batch a server ever ran would stay in {@link #owners}. An event that comes later still
     * reaches this owner (its listener holds it) and finds the batch final; a later call (a delete) makes
     * a new owner, which finds the same.
     */
    private void forget(BatchOwner owner) {
        assert owner.isCurrent() : "batch " + owner.id + " forgotten off its owner's executor";
        if (owner.app == null && reads.current(owner.id).map(b -> b.state().isFinal()).orElse(true)) {
            owners.remove(owner.id, owner);
        }
    }

    /** How many batches have an owner here now (live ones, and those whose last task is running). */
    int owned() {
        return owners.size();
    }

    /**
     * Records the final log tail of a batch whose application is gone, so reading it opens no file, and
     * closes the log's files: nothing writes to them any more.
     */
    private void recordLogTail(int id) {
        List<String> tail = logs.tail(id, BATCH_LOG_TAIL);
        store.saveLogTail(id, tail);
        cache.wroteLogTail(id, tail);
        logs.release(id);
    }

    /**
     * Moves a batch to a new state unless it is gone or already final; on its owner's executor.
     *
     * @return the state it left; null when nothing changed
     */
    private BatchState transition(BatchOwner owner, BatchState state, String reason) {
        assert owner.isCurrent() : "batch " + owner.id + " changed off its owner's executor";
        int id = owner.id;
        Batch current = reads.current(id).orElse(null);
        if (current == null || current.state().isFinal() || current.state() == state) {
            return null;
        }
        BatchState from = current.state();
        Batch next = current.withState(new StateChange(state, now(), reason));
        if (!save(owner, current, next)) {
            return null; // deleted meanwhile, or another replica's now
        }
        cache.wrote(next);
        log.info("batch {}: {} ({})", id, state.livyName(), reason);
        metrics.changed(next, from);
        notifyListeners(next);
        if (state.isFinal()) {
            launches.ended(id);
        } else if (state == BatchState.RUNNING) {
            launches.started(id);
        }
        ReplicaRole replicas = replica;
        if (replicas != null && (state.isFinal() || state == BatchState.RUNNING)) {
            replicas.roomMade(); // a batch left waiting for room is claimed now, not at the next scan
        }
        return from;
    }

    /**
     * Saves a change of a batch, fenced by this server's lease when it has replicas: a write whose lease
     * was lost writes nothing (0 rows) and lets the batch go. A final batch has no lease any more (its
     * final write released it); what is written after it (links, log tail) is its last holder's, which
     * nobody else touches. On the batch's owner executor.
     *
     * @return false when nothing was written (deleted meanwhile, or another replica's now)
     */
    private boolean save(BatchOwner owner, Batch current, Batch next) {
        if (owner.released) {
            return false;
        }
        Lease lease = owner.lease;
        ReplicaRole replicas = replica;
        if (replicas == null || current.state().isFinal()) {
            return store.save(next);
        }
        if (lease == null) {
            log.warn("batch {}: not written: this replica holds no lease on it", owner.id);
            return false;
        }
        try {
            replicas.save(next, lease);
        } catch (LeaseLostException e) {
            letGo(owner, "a write was fenced");
            return false;
        }
        if (next.state().isFinal()) {
            owner.lease = null;
            replicas.ended(owner.id, lease); // the write released it in the database
        }
        return true;
    }

    /**
     * Replicas: takes the batch's place under the admission limits in the database, where they are
     * counted over every replica at once (this server's queue only knew the others' figures as of its
     * last look): false when another replica took the last place meanwhile (the batch waits again here,
     * {@code not_started}) or when the batch is another replica's now. On its owner's executor, just
     * before it starts.
     */
    private boolean admitted(BatchOwner owner, Batch batch) {
        ReplicaRole replicas = replica;
        if (replicas == null) {
            return true; // this server's queue is the whole count
        }
        Lease lease = owner.lease;
        if (lease == null || owner.released) {
            launches.ended(owner.id);
            return false;
        }
        BatchLeases.Admission decided;
        try {
            decided = replicas.admit(lease, batch.owner(), admission);
        } catch (LeaseLostException e) {
            letGo(owner, "its admission was fenced");
            return false;
        }
        if (decided.admitted()) {
            return true;
        }
        launches.requeue(owner.id, batch.owner());
        if (batch.state() == BatchState.STARTING) {
            transition(owner, BatchState.NOT_STARTED, decided.reason());
        } else {
            log.debug("batch {}: {}", owner.id, decided.reason());
        }
        return false;
    }

    /** Replicas: records where the batch is launched, fenced, before spark-submit starts; false when lost. */
    private boolean recordLaunchStart(BatchOwner owner, Optional<String> tag) {
        ReplicaRole replicas = replica;
        if (replicas == null) {
            return true;
        }
        Lease lease = owner.lease;
        if (lease == null || owner.released) {
            return false;
        }
        try {
            replicas.recordLaunchStart(owner.id, tag, lease);
            return true;
        } catch (LeaseLostException e) {
            letGo(owner, "its launch record was fenced");
            return false;
        }
    }

    /**
     * Another replica claimed the batch: this server stops tracking it and writes nothing more of it.
     * Its application is left running (the new holder adopts it). On the batch's owner executor.
     */
    private void letGo(BatchOwner owner, String why) {
        int id = owner.id;
        owner.released = true;
        Lease lease = owner.lease;
        owner.lease = null;
        LaunchedApp app = owner.app;
        if (app != null) {
            app.release(); // the new holder follows it: no more polls of it from here
        }
        replica.released(id, lease);
        owners.remove(id, owner);
        cache.released(id);
        launches.ended(id);
        log.warn("batch {}: lease lost to another replica ({}); no longer tracked here", id, why);
    }

    /** Replicas: records a DELETE for whichever replica holds the batch to carry out. */
    private void requestKill(int id) {
        ReplicaRole replicas = replica;
        if (replicas != null) {
            replicas.requestKill(id);
        }
    }

    /** Replicas: the lease keeper found at a renewal that another replica claimed this batch. */
    void lost(Lease lease) {
        BatchOwner owner = owners.get(lease.batchId());
        if (owner != null) {
            owner.post(() -> {
                if (lease.equals(owner.lease)) {
                    letGo(owner, "another replica claimed it");
                }
            });
        }
    }

    /** Replicas: a DELETE on some replica asked for this held batch to be killed and removed. */
    void killRequested(Lease lease) {
        BatchOwner owner = owners.get(lease.batchId());
        // Held under this lease, or already ended here since the claim (its final write released it).
        if (owner != null && !owner.released && (lease.equals(owner.lease) || owner.lease == null)) {
            // Off the keeper's thread: the delete waits on the owner, which a renewal must not.
            ownerPool.execute(() -> deleteHeld(owner, "(on another replica)"));
        }
    }

    /** Replicas: how many more batches this server could start now; what its scans claim. */
    int spareCapacity() {
        ReplicaRole replicas = replica;
        if (closing || replicas == null) {
            return 0;
        }
        refreshLoad(replicas);
        return launches.spare();
    }

    /** Replicas: tells the launch queue what the other replicas have admitted now (one query). */
    private void refreshLoad(ReplicaRole replicas) {
        launches.others(replicas.loadOfOthers());
    }

    /**
     * Makes this server one of several sharing its store: from now on every live batch it changes is
     * one it holds a lease on. Called once, before the server serves and before the keeper starts.
     */
    void joinReplicas(Replica replica) {
        requireNonNull(replica, "replica");
        cache.shared();
        this.replica = new ReplicaRole(replica, store, logs, launcher.carriedFiles(), feeds, batchLogs,
                this::heldHere, this::lost);
    }

    /** Whether this server holds the batch (always, for a server of its own that knows it). */
    private boolean heldHere(int id) {
        BatchOwner owner = owners.get(id);
        return owner != null && !owner.released;
    }

    /** Replicas: the batch is this server's under {@code lease} from now on: its writes and log copies are fenced by it. */
    private void hold(BatchOwner owner, Lease lease) {
        owner.lease = lease;
        replica.track(lease);
    }

    /**
     * Replicas: runs the takeover of a batch this server has just claimed under {@code lease} on the
     * batch's owner, without waiting for it: the lease keeper's claims of one scan are taken over
     * {@value #TAKEOVERS_AT_ONCE} at a time, each on its own owner. When {@code takeOver} leaves the batch
     * held by nobody here (gone, or final), its owner is forgotten again, and the lease too.
     *
     * @return completes once {@code takeOver} ran (exceptionally if the server stopped first)
     */
    CompletableFuture<Void> takeOver(Lease lease, Runnable takeOver) {
        return CompletableFuture.runAsync(() -> {
            BatchOwner owner = owner(lease.batchId());
            owner.run(() -> {
                try {
                    takeOver.run();
                } finally {
                    if (owner.lease == null && !owner.released) {
                        replica.released(owner.id, lease); // never held here (gone or final): give it back
                        if (owners.get(owner.id) == owner) {
                            forget(owner);
                        }
                    }
                }
            });
        }, takeoverPool);
    }

    /**
     * Replicas: starts this server's log of a batch it takes over with the lines its previous holder
     * copied to the database, before it adopts or launches the batch.
     */
    void seedLog(int id) {
        replica.seedLog(id);
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

    /** {@link #close(Duration)} with the default bound on the hand-over. */
    @Override
    public void close() {
        close(DEFAULT_HANDOVER);
    }

    /**
     * Stops launching, in an order that loses no batch: no new launch starts; launches under way finish;
     * applications launched by this process are given up to {@code handover} to connect back to it
     * ({@link LaunchedApp#handedOver}), since a SparkContext that finds its launcher gone fails; then what
     * applications report is no longer saved, and the owners finish the changes already posted, so that
     * the store can close after this returns. Running applications are left running: their batches are
     * recorded durably and the next server start re-attaches them (and launches the batches still
     * queued). Called once, by the thread that stops the server.
     */
    public void close(Duration handover) {
        long deadline = System.nanoTime() + handover.toNanos();
        closing = true;
        ReplicaRole replicas = replica;
        if (replicas != null) {
            // No more claims or renewals: to the other replicas this stop is like a crash, and they take
            // the batches over when the leases run out. Takeovers not begun are dropped likewise.
            replicas.stopLeases();
        }
        takeoverPool.shutdownNow();
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
            closed = true;
            ownerPool.shutdown();
            if (!ownerPool.awaitTermination(Math.max(remaining(deadline), TimeUnit.SECONDS.toNanos(5)),
                    TimeUnit.NANOSECONDS)) {
                log.warn("stopping: batch changes still under way");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true;
        feedPool.shutdownNow();
        if (replicas != null) {
            replicas.close();
        }
    }

    private List<Integer> notHandedOver() {
        List<Integer> ids = new ArrayList<>();
        owners.forEach((id, owner) -> {
            LaunchedApp app = owner.app;
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

    /**
     * Events from one batch's application, from the launcher's threads: posted to the batch's owner.
     * After close the store may be gone: the next start reconciles what is dropped here.
     */
    private final class Events implements LaunchListener {
        private final BatchOwner owner;

        Events(BatchOwner owner) {
            this.owner = owner;
        }

        @Override
        public void onRunning(String reason) {
            if (!closed) {
                owner.post(() -> transition(owner, BatchState.RUNNING, reason));
            }
        }

        @Override
        public void onExited() {
            tailer.wake(); // its end is read on the next tick: now, not up to a tick later
        }

        @Override
        public void onAppId(String appId) {
            if (!closed) {
                owner.post(() -> update(owner, b -> b.withAppId(appId)));
            }
        }

        @Override
        public void onAppInfo(String sparkUiUrl, String driverLogUrl) {
            if (!closed) {
                owner.post(() -> update(owner, b -> b.withAppInfo(sparkUiUrl, driverLogUrl)));
            }
        }
    }
}
