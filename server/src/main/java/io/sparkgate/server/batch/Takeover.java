package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.ReplicaSettings;
import io.sparkgate.server.launch.RecordedLaunch;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.store.BatchLeases;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.LaunchStart;
import io.sparkgate.server.store.Lease;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchState;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a replica does with a batch it has just claimed (a new one nobody launched yet, or one whose
 * replica stopped renewing its lease), decided from the database alone, since the replica that
 * launched it may be gone with its data directory:
 * <ul>
 *   <li>never launched (no launch recorded): queued and launched here, once;</li>
 *   <li>launched on YARN: its application adopted by the tag recorded before the launch, never
 *       submitted again;</li>
 *   <li>launched in local mode from this very home (this server's earlier process): re-attached by
 *       its pid, as after a restart of a server of its own;</li>
 *   <li>launched in local mode on another replica: its driver was a child process there and cannot
 *       move: it ends {@code dead}, {@value #REPLICA_LOST}.</li>
 * </ul>
 * Each takeover runs on the batch's owner executor ({@link BatchManager#takeOver}), posted there by the
 * lease keeper's thread, which does not wait for it: the batches of one scan are taken over in parallel.
 * At start, before serving, the keeper waits for this home's batches to be taken back.
 */
public final class Takeover implements LeaseKeeper.Listener {

    private static final Logger log = LoggerFactory.getLogger(Takeover.class);

    /** The reason a local-mode batch of a lost replica ends {@code dead} with. */
    public static final String REPLICA_LOST = "replica lost: its driver ran on replica %s, which stopped renewing its lease";

    private final BatchManager manager;
    private final BatchStore store;
    private final LogStore logs;
    private final String home;

    private Takeover(BatchManager manager, BatchStore store, LogStore logs, String home) {
        this.manager = requireNonNull(manager, "manager");
        this.store = requireNonNull(store, "store");
        this.logs = requireNonNull(logs, "logs");
        this.home = requireNonNull(home, "home");
    }

    /**
     * Makes {@code manager}'s server a replica: takes back at once the local-mode batches launched from
     * this home (only this home can find their drivers), then claims and renews leases from a thread of
     * its own. Call once, before serving, instead of {@link BatchRecovery} (which reconciles every
     * unfinished batch as if they all were this server's).
     *
     * @param home this server's host and data directory
     * @return the keeper; closed by {@link BatchManager#close}
     */
    public static LeaseKeeper start(BatchManager manager, BatchStore store, BatchLeases leases, LogStore logs,
                                    ReplicaSettings settings, String home) {
        Takeover takeover = new Takeover(manager, store, logs, home);
        LeaseKeeper keeper = LeaseKeeper.onOwnThread(leases, settings, manager::spareCapacity, takeover);
        manager.joinReplicas(new BatchManager.Replica(keeper, leases, home));
        int back = keeper.reclaim(home);
        if (back > 0) {
            log.info("replica {}: took back {} local batches launched from this home", settings.id(), back);
        }
        keeper.start();
        log.info("replica {} (home {}): leases of {} renewed every {}, free batches claimed every {}", settings.id(),
                home, settings.leaseTtl(), settings.renewInterval(), settings.scanInterval());
        return keeper;
    }

    @Override
    public CompletionStage<Void> claimed(BatchLeases.Held held) {
        return manager.takeOver(held.lease(), () -> takeOver(held.lease()));
    }

    /** Decides and does what becomes of a batch just claimed; on its owner's executor. */
    private void takeOver(Lease lease) {
        int id = lease.batchId();
        try {
            Optional<Batch> found = store.get(id);
            if (found.isEmpty() || found.get().state().isFinal()) {
                return; // gone or ended between the claim and this read: the manager gives the lease back
            }
            Batch batch = found.get();
            Optional<LaunchStart> start = store.launchStart(id);
            if (start.isEmpty() || !start.get().home().equals(home) || start.get().tag().isPresent()) {
                // Not a driver of this home's that wrote its log here: the log goes on from the lines
                // its previous holder copied, under the same offsets.
                manager.seedLog(id);
            }
            if (start.isEmpty() || batch.state() == BatchState.NOT_STARTED) {
                manager.relaunch(batch, lease, "its replica was lost before launching it; queued again")
                        .ifPresentOrElse(reason -> log.info("batch {}: taken over, waits ({})", id, reason),
                                () -> log.info("batch {}: taken over, never launched: launching it here", id));
                return;
            }
            Optional<String> tag = start.get().tag();
            boolean local = tag.isEmpty();
            if (local && !start.get().home().equals(home)) {
                manager.end(batch, REPLICA_LOST.formatted(start.get().home()), lease);
                log.warn("batch {}: taken over, but its local driver ran on {}: dead", id, start.get().home());
                return;
            }
            RecordedLaunch recorded = new RecordedLaunch(id, logs.batchDir(id), logs.outputFile(id), batch.appId(),
                    local ? store.launch(id) : Optional.empty(), tag);
            if (manager.reattach(batch, recorded, lease)) {
                log.info("batch {}: taken over, its application adopted ({})", id, tag.orElse("local process"));
            } else {
                logs.advance(id, true);
                manager.end(id, BatchRecovery.LOST, lease);
            }
        } catch (RuntimeException e) {
            log.error("batch {}: cannot take it over", id, e);
            manager.end(id, "taken over from a lost replica: failed: " + e.getMessage(), lease);
        }
    }

    @Override
    public void lost(Lease lease) {
        manager.lost(lease);
    }

    @Override
    public void killRequested(Lease lease) {
        manager.killRequested(lease);
    }
}
