package io.sparkgate.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkgate.server.config.AdmissionSettings;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Replicas admitting batches at the same moment on a real PostgreSQL: however the admissions
 * interleave, the limits on running and starting batches, global and per user, hold over all of them
 * exactly, not per replica.
 */
class AdmissionRaceTest {

    private static final Duration TTL = Duration.ofMinutes(5);
    private static final int REPLICAS = 4;

    @Test
    void concurrentAdmissionsOnSeveralReplicasNeverPassTheGlobalLimit() throws Exception {
        try (JdbcBatchStore store = TestPostgres.newStore()) {
            BatchLeases leases = store.replicaLeases().orElseThrow();
            List<Held> held = heldBatches(store, leases, 40, i -> "user" + (i % 5));
            AdmissionSettings limits = new AdmissionSettings(100, 0, 7, 0, 100, Duration.ofSeconds(5));

            List<Held> admitted = admitAllAtOnce(leases, held, limits);

            assertThat(admitted).hasSize(7);
            // Admitted once, admitted for good: asking again (a new holder's launch) takes no new place.
            assertThat(leases.admit(admitted.get(0).lease(), admitted.get(0).user(), limits).admitted()).isTrue();
            Held refused = held.stream().filter(h -> !admitted.contains(h)).findFirst().orElseThrow();
            BatchLeases.Admission waits = leases.admit(refused.lease(), refused.user(), limits);
            assertThat(waits.admitted()).isFalse();
            assertThat(waits.reason()).isEqualTo("waiting: 7 batches running (limit 7) across the replicas");
        }
    }

    @Test
    void perUserLimitsHoldAcrossReplicasAndAFinalBatchFreesItsPlace() throws Exception {
        try (JdbcBatchStore store = TestPostgres.newStore()) {
            BatchLeases leases = store.replicaLeases().orElseThrow();
            List<Held> held = heldBatches(store, leases, 30, i -> "user" + (i % 3));
            // Two running per user, and one starting per user: the starting limit is what binds first.
            AdmissionSettings limits = new AdmissionSettings(100, 1, 0, 2, 100, Duration.ofSeconds(5));

            List<Held> admitted = admitAllAtOnce(leases, held, limits);

            assertThat(admitted).extracting(Held::user).containsExactlyInAnyOrder("user0", "user1", "user2");
            // user0's batch runs: its starting place is free, its running one is not.
            Lease first = admitted.stream().filter(h -> h.user().equals("user0")).findFirst().orElseThrow().lease();
            store.save(BatchLeasesTest.withChange(store, first.batchId(), BatchState.RUNNING, "runs"), first);
            List<Held> user0 = new ArrayList<>(held.stream().filter(h -> h.user().equals("user0") && !admitted.contains(h)).toList());
            List<Held> second = admitAllAtOnce(leases, user0, limits);
            assertThat(second).hasSize(1);
            user0.removeAll(second); // an admitted batch asking again is admitted again: not a new place
            assertThat(admitAllAtOnce(leases, user0, limits)).as("one starting at a time").isEmpty();
            Lease next = second.get(0).lease();
            store.save(BatchLeasesTest.withChange(store, next.batchId(), BatchState.RUNNING, "runs"), next);
            assertThat(admitAllAtOnce(leases, user0, limits)).as("two running is user0's limit").isEmpty();
            // A final batch holds no place.
            store.save(BatchLeasesTest.withChange(store, first.batchId(), BatchState.SUCCESS, "done"), first);
            assertThat(admitAllAtOnce(leases, user0, limits)).hasSize(1);
        }
    }

    @Test
    void anAdmissionUnderALostLeaseIsRefusedAndTakesNoPlace() {
        try (JdbcBatchStore store = TestPostgres.newStore()) {
            BatchLeases leases = store.replicaLeases().orElseThrow();
            int id = BatchLeasesTest.insert(store, BatchState.NOT_STARTED);
            Lease old = leases.claim(id, "a", Duration.ofMillis(1)).orElseThrow().lease();
            await(() -> leases.claim(id, "b", TTL).isPresent());
            AdmissionSettings limits = new AdmissionSettings(100, 0, 1, 0, 100, Duration.ofSeconds(5));

            assertThatThrownBy(() -> leases.admit(old, "alice", limits)).isInstanceOf(LeaseLostException.class);
            Lease now = leases.holder(id).orElseThrow();
            assertThat(leases.admit(now, "alice", limits).admitted()).as("the place is still free").isTrue();
        }
    }

    /** A waiting batch of {@code user} held by one of the replicas. */
    private record Held(Lease lease, String user) {}

    /** Inserts {@code n} waiting batches and has them claimed round-robin by {@value #REPLICAS} replicas. */
    private static List<Held> heldBatches(JdbcBatchStore store, BatchLeases leases, int n,
                                          java.util.function.IntFunction<String> userOf) {
        List<Held> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String user = userOf.apply(i);
            int id = store.insert(new Batch(-1, BatchRequest.of("/jobs/app.jar"), user, "", "", "",
                    List.of(new StateChange(BatchState.NOT_STARTED, Instant.now(), "submitted")), Instant.now()), "");
            held.add(new Held(leases.claim(id, "replica-" + (i % REPLICAS), TTL).orElseThrow().lease(), user));
        }
        return held;
    }

    /** Every lease's holder asks to admit its batch, all replicas at the same moment; the admitted ones. */
    private static List<Held> admitAllAtOnce(BatchLeases leases, List<Held> held, AdmissionSettings limits)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> asked = new ArrayList<>();
        for (Held h : held) {
            asked.add(pool.submit(() -> {
                go.await();
                return leases.admit(h.lease(), h.user(), limits).admitted();
            }));
        }
        go.countDown();
        List<Held> admitted = new ArrayList<>();
        for (int i = 0; i < held.size(); i++) {
            if (asked.get(i).get(1, TimeUnit.MINUTES)) {
                admitted.add(held.get(i));
            }
        }
        pool.shutdown();
        return admitted;
    }

    private static void await(java.util.function.BooleanSupplier condition) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(condition::getAsBoolean);
    }
}
