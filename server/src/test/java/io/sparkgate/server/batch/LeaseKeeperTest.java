package io.sparkgate.server.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sparkgate.server.config.ReplicaSettings;
import io.sparkgate.server.store.BatchLeases;
import io.sparkgate.server.store.JdbcBatchStore;
import io.sparkgate.server.store.Lease;
import io.sparkgate.server.store.LeaseLostException;
import io.sparkgate.server.store.TestPostgres;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two replicas' lease keepers on one real PostgreSQL: a replica that stops loses its batches to the
 * other within the lease TTL and one scan; one that pauses past its leases is told at its next renewal
 * that they are gone; a kill request reaches the holder.
 */
class LeaseKeeperTest {

    private static final Duration TTL = Duration.ofSeconds(2);
    private static final Duration SCAN = Duration.ofMillis(200);

    private JdbcBatchStore store;
    private final List<Integer> batches = new ArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    /** What one replica's keeper told it. */
    static final class Heard implements LeaseKeeper.Listener {
        final List<BatchLeases.Held> claimed = new CopyOnWriteArrayList<>();
        final List<Lease> lost = new CopyOnWriteArrayList<>();
        final List<Lease> kills = new CopyOnWriteArrayList<>();

        @Override
        public CompletionStage<Void> claimed(BatchLeases.Held held) {
            claimed.add(held);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void lost(Lease lease) {
            lost.add(lease);
        }

        @Override
        public void killRequested(Lease lease) {
            kills.add(lease);
        }

        List<Integer> claimedIds() {
            return claimed.stream().map(h -> h.lease().batchId()).sorted().toList();
        }
    }

    @BeforeEach
    void fiveRunningBatches() {
        store = TestPostgres.newStore();
        for (int i = 0; i < 5; i++) {
            batches.add(store.insert(new Batch(-1, BatchRequest.of("/jobs/app.jar"), "alice", "", "", "",
                    List.of(new StateChange(BatchState.RUNNING, Instant.now(), "running")), Instant.now()), ""));
        }
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        store.close();
    }

    private LeaseKeeper keeper(String id, int capacity, Heard heard, ScheduledExecutorService scheduler) {
        LeaseKeeper keeper = new LeaseKeeper(store.leases(),
                new ReplicaSettings(id, TTL, Duration.ofMillis(500), SCAN), () -> capacity, heard, scheduler);
        toClose.add(scheduler::shutdownNow);
        toClose.add(keeper);
        keeper.start();
        return keeper;
    }

    private LeaseKeeper keeper(String id, int capacity, Heard heard) {
        return keeper(id, capacity, heard, Executors.newSingleThreadScheduledExecutor());
    }

    @Test
    void aReplicaThatStopsLosesItsBatchesToAnotherWithinTheLeaseTtlAndOneScan() {
        Heard a = new Heard();
        Heard b = new Heard();
        LeaseKeeper keeperA = keeper("a", 10, a);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.claimedIds().equals(batches));
        keeper("b", 10, b);

        await().during(TTL.multipliedBy(2)).atMost(TTL.multipliedBy(3)).until(() -> b.claimed.isEmpty());
        keeperA.close(); // as a crash: no release, the leases run out
        long stopped = System.nanoTime();
        await().atMost(TTL.plus(SCAN).plusSeconds(5)).until(() -> b.claimedIds().equals(batches));
        Duration takeover = Duration.ofNanos(System.nanoTime() - stopped);

        System.out.printf("LeaseKeeperTest: takeover %d ms after the holder stopped (TTL %d ms, scan %d ms)%n",
                takeover.toMillis(), TTL.toMillis(), SCAN.toMillis());
        assertThat(b.claimed).allSatisfy(h -> assertThat(h.lease().epoch()).isEqualTo(2));
        assertThat(store.leases().holder(batches.get(0)).orElseThrow().holder()).isEqualTo("b");
    }

    @Test
    void aReplicaPausedPastItsLeasesIsToldAtItsNextRenewalAndItsWritesAreFenced() throws Exception {
        Heard a = new Heard();
        Heard b = new Heard();
        ScheduledExecutorService schedulerA = Executors.newSingleThreadScheduledExecutor();
        LeaseKeeper keeperA = keeper("a", 10, a, schedulerA);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.claimedIds().equals(batches));
        Lease old = keeperA.lease(batches.get(0)).orElseThrow();
        CountDownLatch resume = new CountDownLatch(1);
        schedulerA.execute(() -> {
            try {
                resume.await(); // A's one thread stands still, as in a long GC pause or SIGSTOP
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        keeper("b", 10, b);
        await().atMost(TTL.plus(SCAN).plusSeconds(5)).until(() -> b.claimedIds().equals(batches));
        resume.countDown();

        await().atMost(Duration.ofSeconds(10)).until(() -> a.lost.size() == batches.size());
        assertThat(a.lost).extracting(Lease::batchId).containsExactlyInAnyOrderElementsOf(batches);
        assertThat(keeperA.lease(batches.get(0))).isEmpty();
        Batch stale = store.get(old.batchId()).orElseThrow();
        assertThatThrownBy(() -> store.save(stale, old)).isInstanceOf(LeaseLostException.class);
        assertThat(b.lost).isEmpty();
    }

    @Test
    void aReplicaClaimsNoMoreThanItsSpareCapacityAndLeavesTheRestToOthers() {
        Heard a = new Heard();
        Heard b = new Heard();
        keeper("a", 2, a);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.claimed.size() == 2);
        keeper("b", 10, b);

        await().atMost(Duration.ofSeconds(10)).until(() -> b.claimed.size() == 3);
        assertThat(a.claimedIds()).containsExactlyElementsOf(batches.subList(0, 2));
        assertThat(b.claimedIds()).containsExactlyElementsOf(batches.subList(2, 5));
    }

    @Test
    void aKillRequestFromAnyReplicaReachesTheHolderOnce() {
        Heard a = new Heard();
        keeper("a", 10, a);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.claimed.size() == batches.size());

        assertThat(store.leases().requestKill(batches.get(3))).isTrue();

        await().atMost(Duration.ofSeconds(10)).until(() -> !a.kills.isEmpty());
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> a.kills.size() == 1);
        assertThat(a.kills).extracting(Lease::batchId).containsExactly(batches.get(3));
    }

    @Test
    void aBatchClaimedAtItsCreateWhileARenewalIsUnderWayStaysHeld() throws Exception {
        // The create thread claims a new batch while the keeper's thread renews: a renewal that began
        // before the claim must not take the new lease for one another replica stole (it did, and the
        // batch then sat `starting` forever, held in the database and tracked nowhere).
        Heard a = new Heard();
        LeaseKeeper keeper = new LeaseKeeper(store.leases(),
                new ReplicaSettings("a", TTL, Duration.ofMillis(500), SCAN), () -> 0, a,
                Executors.newSingleThreadScheduledExecutor());
        toClose.add(keeper);
        java.util.concurrent.atomic.AtomicBoolean creating = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread renewals = new Thread(() -> {
            while (creating.get()) {
                keeper.renew();
            }
        }, "renewals");
        renewals.start();
        List<Integer> created = new ArrayList<>();
        try {
            for (int i = 0; i < 1500 && a.lost.isEmpty(); i++) {
                int id = store.insert(new Batch(-1, BatchRequest.of("/jobs/app.jar"), "alice", "", "", "",
                        List.of(new StateChange(BatchState.NOT_STARTED, Instant.now(), "created")), Instant.now()), "");
                assertThat(keeper.claim(id)).isPresent();
                created.add(id);
            }
        } finally {
            creating.set(false);
            renewals.join();
        }
        keeper.renew();

        assertThat(a.lost).isEmpty();
        assertThat(created).allSatisfy(id -> assertThat(keeper.lease(id)).isPresent());
    }

    @Test
    void aLeaseTheDatabaseHoldsForThisReplicaButNobodyTracksIsGivenBackForAnotherToClaim() {
        // As after a release that failed while the database was away: the renewals would keep the
        // batch held by a replica that no longer tracks it, and nobody would ever start or end it.
        Heard a = new Heard();
        LeaseKeeper keeper = new LeaseKeeper(store.leases(),
                new ReplicaSettings("a", TTL, Duration.ofMillis(500), SCAN), () -> 0, a,
                Executors.newSingleThreadScheduledExecutor());
        toClose.add(keeper);
        int orphan = batches.get(0);
        assertThat(store.leases().claim(orphan, "a", TTL)).isPresent();

        keeper.renew();
        assertThat(store.leases().holder(orphan)).isPresent(); // maybe a claim in flight: left alone
        await().atMost(TTL.multipliedBy(3)).pollInterval(Duration.ofMillis(200)).until(() -> {
            keeper.renew(); // as the keeper's schedule does, more often than the TTL
            return store.leases().holder(orphan).isEmpty();
        });
        Heard b = new Heard();
        keeper("b", 10, b);
        await().atMost(Duration.ofSeconds(10)).until(() -> b.claimedIds().contains(orphan));
        assertThat(a.lost).isEmpty();
    }

    @Test
    void aReplicaThatStopsIsTakenOverJustAfterItsLeasesRunOutNotAtTheNextFixedScan() {
        Heard a = new Heard();
        Heard b = new Heard();
        LeaseKeeper keeperA = keeper("a", 10, a);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.claimedIds().equals(batches));
        Duration never = Duration.ofHours(1); // b's fixed scans: one at its start, the next in an hour
        LeaseKeeper keeperB = new LeaseKeeper(store.leases(), new ReplicaSettings("b", TTL, Duration.ofMillis(500), never),
                () -> 10, b, Executors.newSingleThreadScheduledExecutor());
        toClose.add(keeperB);
        keeperB.start();
        await().during(TTL).atMost(TTL.multipliedBy(2)).until(() -> b.claimed.isEmpty());

        keeperA.close(); // as a crash: no release, the leases run out

        await().atMost(TTL.plusSeconds(10)).until(() -> b.claimedIds().equals(batches));
        assertThat(store.leases().holder(batches.get(0)).orElseThrow().holder()).isEqualTo("b");
    }

    @Test
    void aRenewalThatMeetsABatchsFinalWriteDoesNotTakeItsLeaseForLost() {
        // The final write releases the lease in the database; the keeper forgets it only after that
        // write returns. A renewal in between does not find the lease: it must not report it lost.
        Heard a = new Heard();
        LeaseKeeper keeper = new LeaseKeeper(store.leases(),
                new ReplicaSettings("a", TTL, Duration.ofMillis(500), SCAN), () -> 0, a,
                Executors.newSingleThreadScheduledExecutor());
        toClose.add(keeper);
        int id = batches.get(0);
        Lease lease = keeper.claim(id).orElseThrow();
        Batch succeeded = store.get(id).orElseThrow().withState(
                new StateChange(BatchState.SUCCESS, Instant.now(), "succeeded"));

        keeper.releasing(lease);
        store.save(succeeded, lease);
        keeper.renew();
        keeper.released(lease);
        keeper.renew();

        assertThat(a.lost).isEmpty();
        assertThat(keeper.lease(id)).isEmpty();
        assertThat(store.get(id).orElseThrow().state()).isEqualTo(BatchState.SUCCESS);
        assertThat(store.leases().holder(id)).isEmpty();
    }
}
