package io.sparkgate.server.store;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.LaunchInfo;
import io.sparkgate.server.values.BatchFilter;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/** Where batches are kept. Every write is complete (committed) when the method returns. */
public interface BatchStore extends AutoCloseable {

    /**
     * Records a new batch under a new id: unique, greater than every id handed out before, chosen by
     * the store ({@code batch.id()} is ignored).
     *
     * @param requestId the client's idempotency key, or empty
     * @return the new batch's id
     * @throws RequestIdTakenException when another batch has {@code requestId}; nothing is recorded
     */
    int insert(Batch batch, String requestId);

    /**
     * {@link #insert}, answered through a future that completes once the batch is recorded (or fails
     * with what {@code insert} throws), so a caller need not hold its thread meanwhile. A store that
     * groups concurrent inserts into one commit runs the group on the thread of one of their callers
     * and completes the others' futures there. The default inserts on the caller's thread.
     */
    default CompletableFuture<Integer> insertLater(Batch batch, String requestId) {
        try {
            return CompletableFuture.completedFuture(insert(batch, requestId));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Replaces the stored state of an existing batch (state, history, app id and links).
     *
     * @return false when the batch is gone (nothing written)
     */
    boolean save(Batch batch);

    /**
     * Like {@link #save(Batch)}, fenced by {@code lease}: written only while {@code lease} still holds
     * the batch, and a final state releases it.
     *
     * @throws io.sparkgate.server.store.LeaseLostException when another claim was made since (or the
     *         batch is gone); nothing is written
     */
    default void save(Batch batch, Lease lease) {
        throw new UnsupportedOperationException("this store has no leases");
    }

    /**
     * The leases of live batches when several servers share this store (PostgreSQL); empty for a store
     * that belongs to one server (H2's file).
     */
    default Optional<BatchLeases> replicaLeases() {
        return Optional.empty();
    }

    /** The copy of live batches' logs that replicas share; empty for a store of one server's own. */
    default Optional<LogChunks> replicaLogs() {
        return Optional.empty();
    }

    Optional<Batch> get(int id);

    /**
     * The batches with these ids that still exist, in ascending id order, each with its recorded log
     * tail: one round trip for a whole page.
     */
    List<StoredBatch> getAll(List<Integer> ids);

    /**
     * Ids of one page of the batches {@code filter} holds, in its order: up to {@code size}, skipping the
     * first {@code from}. With {@link #getAll}, a page in two round trips.
     */
    List<Integer> pageIds(BatchFilter filter, int from, int size);

    /** One page's ids, as {@link #pageIds}, and the number of batches {@code filter} holds: one round trip. */
    PageIds page(BatchFilter filter, int from, int size);

    /** The ids of one page of a list and the list's length, read together. */
    record PageIds(List<Integer> ids, int total) {}

    /**
     * Records the last lines of a batch's log (at most a few; the caller decides how many), read with the
     * batch by {@link #getAll}; no-op if the batch is gone.
     */
    void saveLogTail(int id, List<String> lines);

    /** The batch created with the given idempotency key. */
    Optional<Batch> findByRequestId(String requestId);

    /**
     * The newest batch (highest id) of this name; with {@code visibleTo}, among the batches that user
     * owns or runs as (proxy user) only.
     */
    Optional<Batch> findNewestNamed(String name, Optional<String> visibleTo);

    /** Up to {@code size} batches in ascending id order, skipping the first {@code from}. */
    List<Batch> list(int from, int size);

    int count();

    /** Like {@link #list} over the batches {@code user} owns or runs as (proxy user) only. */
    List<Batch> listOf(String user, int from, int size);

    /** Number of batches {@code user} owns or runs as. */
    int countOf(String user);

    /**
     * Up to {@code size} of the batches {@code filter} holds, in its order, skipping the first {@code from}
     * (Sparkgate's list extensions; Livy's plain list is {@link #list(int, int)} / {@link #listOf}).
     */
    List<Batch> list(BatchFilter filter, int from, int size);

    /** Number of batches {@code filter} holds. */
    int count(BatchFilter filter);

    /** Batches not in a final state, in ascending id order. */
    List<Batch> listUnfinished();

    /**
     * The stamps of every batch not in a final state and of every batch with an id above
     * {@code newerThan}; one light query, for replicas to see what the others changed.
     */
    BatchStamps stamps(int newerThan);

    /** Ids of the batches that reached a final state before {@code time}. */
    List<Integer> finishedBefore(Instant time);

    /** Records the local process of a batch's application, to find it again after a restart. */
    void saveLaunch(int id, LaunchInfo launch);

    Optional<LaunchInfo> launch(int id);

    /**
     * Replicas: records where a batch is being launched, before its {@code spark-submit} starts, fenced
     * by {@code lease}.
     *
     * @throws LeaseLostException when another replica claimed the batch since; nothing is written
     */
    default void saveLaunchStart(int id, LaunchStart start, Lease lease) {
        throw new UnsupportedOperationException("this store has no leases");
    }

    /** Replicas: where the batch was launched; empty when it never was (or the store has no replicas). */
    default Optional<LaunchStart> launchStart(int id) {
        return Optional.empty();
    }

    /** Records the exit code of a batch's application. */
    void saveExitCode(int id, int exitCode);

    OptionalInt exitCode(int id);

    /** Forgets a batch; true when it existed. */
    boolean delete(int id);

    /** Each state that has batches now, with their number and oldest creation time (for metrics: one query). */
    List<StateSummary> summary();

    @Override
    default void close() {}
}
