package io.sparkgate.server.batch;

import io.sparkgate.server.values.BatchFilter;

import io.sparkgate.server.values.Text;

import io.sparkgate.server.values.AdmissionLimitException;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchConflictException;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.values.StateChange;

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
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front of the batch package, what the API calls: create (idempotent by request id), read, list,
 * page logs, follow and watch, delete. Every change of a batch's state is made by its
 * {@link BatchLifecycle}; the feeds ({@link BatchFeeds}) carry them to followers.
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

    private final BatchStore store;
    private final LogStore logs;
    private final ExecutorService feedPool;
    private final BatchFeeds feeds;
    private final BatchLifecycle lifecycle;

    public BatchManager(BatchStore store, LogStore logs, LogTailer tailer, Launcher launcher,
                        AdmissionSettings admission, Clock clock) {
        this.store = requireNonNull(store, "store");
        this.logs = requireNonNull(logs, "logs");
        // Feeds only read the page cache and hand messages to non-blocking writers.
        this.feedPool = Executors.newFixedThreadPool(2, ThreadFactories.newThreadFactory("sparkgate-feeds", true));
        this.feeds = new BatchFeeds(logs, feedPool);
        logs.addListener((batchId, total) -> feeds.linesAdded(batchId));
        this.lifecycle = new BatchLifecycle(store, logs, tailer, launcher, admission, clock, feeds);
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
        try {
            return new Created(lifecycle.record(request, owner, requestId), false);
        } catch (RequestIdTakenException e) {
            // A concurrent create with the same request id won the database's unique constraint.
            return replay(store.findByRequestId(requestId).orElseThrow(() ->
                    new BatchConflictException("request id '" + requestId + "' was used by a batch just deleted")),
                    request, owner, requestId);
        }
    }

    private static Created replay(Batch existing, BatchRequest request, String owner, String requestId) {
        if (!existing.request().equals(request) || !existing.owner().equals(owner)) {
            throw new BatchConflictException("request id '" + requestId + "' was already used for batch "
                    + existing.id() + " with a different request");
        }
        return new Created(existing, true);
    }

    public Batch get(int id) {
        return store.get(id).orElseThrow(() -> new BatchNotFoundException(id));
    }

    /** The last lines of a batch's log, as carried on the Batch object. */
    public List<String> logTail(int id) {
        return logs.tail(id, BATCH_LOG_TAIL);
    }

    /**
     * A page of the batch list in ascending id order.
     *
     * @param from index of the first batch; 0 when empty
     * @param size most batches; {@value #DEFAULT_PAGE_SIZE} when empty
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
        int count = nonNegative("size", size, DEFAULT_PAGE_SIZE);
        return list(start, count, BatchFilter.all(onlyOf));
    }

    /**
     * A page of the batches {@code filter} holds, in its order, {@code total} counting them all.
     *
     * @param from index of the first batch; 0 when empty
     * @param size most batches; {@value #DEFAULT_PAGE_SIZE} when empty
     */
    public BatchPage list(OptionalInt from, OptionalInt size, BatchFilter filter) {
        int start = nonNegative("from", from, 0);
        int count = nonNegative("size", size, DEFAULT_PAGE_SIZE);
        return list(start, count, filter);
    }

    private BatchPage list(int start, int count, BatchFilter filter) {
        Optional<String> onlyOf = filter.visibleTo();
        if (!filter.isPlain()) {
            return new BatchPage(start, store.count(filter), store.list(filter, start, count));
        }
        if (onlyOf.isPresent()) {
            String user = onlyOf.get();
            return new BatchPage(start, store.countOf(user), store.listOf(user, start, count));
        }
        return new BatchPage(start, store.count(), store.list(start, count));
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
        lifecycle.delete(get(id), byUser);
    }

    /** Recovery: see {@link BatchLifecycle#reattach}. */
    boolean reattach(Batch batch, RecordedLaunch recorded) {
        return lifecycle.reattach(batch, recorded);
    }

    /** Recovery: see {@link BatchLifecycle#relaunch}. */
    Optional<String> relaunch(Batch batch) {
        return lifecycle.relaunch(batch);
    }

    /** Ends a batch that is not final yet: {@code dead} with the reason, killing its application if it runs. */
    void end(int id, String reason) {
        lifecycle.end(id, reason);
    }

    /**
     * Stops launching. Running applications are left running: their batches are recorded durably and
     * the next server start re-attaches them (and launches the batches still queued).
     */
    @Override
    public void close() {
        lifecycle.close();
        feedPool.shutdownNow();
    }
}
