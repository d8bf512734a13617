package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.util.ThreadFactories;
import io.sparkgate.server.config.AdmissionSettings;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.store.BatchLeases;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.LaunchStart;
import io.sparkgate.server.store.Lease;
import io.sparkgate.server.store.LeaseLostException;
import io.sparkgate.server.store.LogChunks;
import io.sparkgate.server.store.StoredBatch;
import io.sparkgate.server.values.Batch;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a server does as one of several replicas sharing its store, for {@link BatchManager}: its leases
 * ({@link LeaseKeeper}, {@link BatchLeases}), the writes it makes under them (states, launch records,
 * admissions: each fenced, each throwing {@link LeaseLostException} when the lease was lost, after which
 * the manager lets the batch go), the database's copy of its batches' logs ({@link LogShipper}), and the
 * polls that show it what the other replicas change (the batches followed here, and every batch for the
 * watchers of all: {@link ElsewhereChanges}).
 *
 * <p>It holds no batch itself: whether a batch is held here is its {@link BatchOwner}'s lease, which the
 * manager keeps and changes on the owner's executor.
 *
 * <p>Threads: made once by {@link BatchManager#joinReplicas}, before the server serves. Fenced writes
 * run on the batch's owner executor; claims and kill requests on API threads; {@link #loadOfOthers} on
 * API threads and the keeper's; its own scheduled thread copies log lines and polls. Its fields are
 * final; what changes is in the keeper, the shipper and the database.
 */
final class ReplicaRole {

    private static final Logger log = LoggerFactory.getLogger(ReplicaRole.class);

    /** How often follows and watches of batches held by other replicas look at the database. */
    private static final long FEED_POLL_MILLIS = 250;

    private final LeaseKeeper keeper;
    private final BatchLeases leases;
    private final String home;
    private final BatchStore store;
    /** The database's copy of the logs of the batches held here. */
    private final LogShipper shipper;
    /** Copies log lines out and polls the feeds of batches held elsewhere. */
    private final ScheduledExecutorService thread;

    /**
     * Starts copying logs and polling; the keeper is started by its maker.
     *
     * @param replica this server's keeper, the store's leases and this server's home
     * @param heldHere whether this server holds a batch
     * @param fenced told when a log copy was fenced: another replica holds the batch now
     */
    ReplicaRole(BatchManager.Replica replica, BatchStore store, LogStore logs, List<String> carriedFiles,
                BatchFeeds feeds, BatchLogs batchLogs, IntPredicate heldHere, Consumer<Lease> fenced) {
        this.keeper = replica.keeper();
        this.leases = replica.leases();
        this.home = replica.home();
        this.store = requireNonNull(store, "store");
        LogChunks chunks = store.replicaLogs().orElseThrow(() ->
                new IllegalStateException("replicas need a store that keeps copies of logs"));
        this.shipper = new LogShipper(logs, chunks, carriedFiles, fenced, feeds::linesAdded);
        batchLogs.share(chunks, shipper::shipped);
        thread = Executors.newSingleThreadScheduledExecutor(
                ThreadFactories.newThreadFactory("sparkgate-replica-logs", true));
        thread.scheduleWithFixedDelay(shipper::tick, LogShipper.INTERVAL_MILLIS, LogShipper.INTERVAL_MILLIS,
                TimeUnit.MILLISECONDS);
        thread.scheduleWithFixedDelay(() -> {
            try {
                feeds.poll(id -> !heldHere.test(id), ids -> store.getAll(ids).stream().map(StoredBatch::batch).toList());
            } catch (RuntimeException e) {
                log.warn("replicas: polling followed batches failed: {}", e.getMessage());
            }
        }, FEED_POLL_MILLIS, FEED_POLL_MILLIS, TimeUnit.MILLISECONDS);
        ElsewhereChanges elsewhere = new ElsewhereChanges(store, heldHere, feeds);
        thread.scheduleWithFixedDelay(() -> {
            try {
                elsewhere.poll();
            } catch (RuntimeException e) {
                log.warn("replicas: polling the other replicas' changes failed: {}", e.getMessage());
            }
        }, 0, ElsewhereChanges.INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Claims a batch nobody holds (new, or waiting for room) for this server. */
    Optional<Lease> claim(int id) {
        return keeper.claim(id);
    }

    /** The batch is this server's under {@code lease} from now on: its log copies are fenced by it. */
    void track(Lease lease) {
        shipper.track(lease);
    }

    /** New lines of a batch's log are indexed; from the indexing thread. */
    void linesAdded(int batchId) {
        shipper.linesAdded(batchId);
    }

    /**
     * Starts this server's log of a batch it takes over with the lines its previous holder copied to
     * the database, before it adopts or launches the batch.
     */
    void seedLog(int id) {
        shipper.seed(id);
    }

    /**
     * Saves a change of a held batch, fenced by {@code lease}; before a final state, every line of its
     * log is copied, so that a final state seen anywhere means a complete log. On its owner's executor.
     *
     * @throws LeaseLostException when another replica holds the batch now: nothing was written
     */
    void save(Batch next, Lease lease) {
        if (!next.state().isFinal()) {
            store.save(next, lease);
            return;
        }
        shipper.ship(next.id());
        keeper.releasing(lease); // from the commit on, a renewal does not find it: not lost, ended
        boolean written = false;
        try {
            store.save(next, lease);
            written = true;
        } finally {
            if (!written) {
                keeper.stillHeld(lease);
            }
        }
    }

    /**
     * The batch's final write has released its lease in the database: no more renewals or log copies of
     * it, and no statement to release it again.
     */
    void ended(int id, Lease lease) {
        keeper.released(lease);
        shipper.untrack(id);
    }

    /** Records where the batch is launched, fenced, before spark-submit starts. */
    void recordLaunchStart(int id, Optional<String> tag, Lease lease) {
        store.saveLaunchStart(id, new LaunchStart(home, tag), lease);
    }

    /** See {@link BatchLeases#admit}. */
    BatchLeases.Admission admit(Lease lease, String user, AdmissionSettings limits) {
        return leases.admit(lease, user, limits);
    }

    /**
     * This server no longer holds the batch (another replica claimed it, or a takeover found it gone or
     * final): no more renewals or log copies of it, and the lease is released in the database if it
     * still holds there. After a final write, {@link #ended} instead.
     *
     * @param lease the lease it was held under; null when none is to be given back
     */
    void released(int id, Lease lease) {
        if (lease != null) {
            keeper.letGo(lease);
        }
        shipper.untrack(id);
    }

    /** Room to start a batch was made here: claim a waiting one now rather than at the next scan. */
    void roomMade() {
        keeper.scanSoon();
    }

    /** Records a DELETE for whichever replica holds the batch to carry out. */
    void requestKill(int id) {
        leases.requestKill(id);
    }

    /** What the other replicas have admitted now (one query). */
    io.sparkgate.server.store.ReplicaLoad loadOfOthers() {
        return leases.loadOfOthers(keeper.id());
    }

    /** No more claims or renewals: to the other replicas this stop is like a crash. */
    void stopLeases() {
        keeper.close();
    }

    /** Stops copying and polling; after the owners finished their changes. */
    void close() {
        thread.shutdownNow();
    }
}
