package io.sparkgate.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Leases on batches, as replicas sharing one database use them, against a real PostgreSQL (and H2,
 * which runs the same API for a single server): who may claim what, when a lease runs out by the
 * database's clock, and that a write fenced by a lost lease writes nothing.
 */
class BatchLeasesTest {

    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static final Duration LONG = Duration.ofMinutes(5);

    @TempDir
    static Path tmp;

    static Stream<Arguments> databases() {
        Supplier<JdbcBatchStore> h2 = () -> JdbcBatchStore.open(
                JdbcBatchStore.embeddedUrl(tmp.resolve("h2-" + DATABASES.incrementAndGet())), "sparkgate", "");
        return Stream.of(Arguments.of("h2", h2), Arguments.of("postgresql", (Supplier<JdbcBatchStore>) TestPostgres::newStore));
    }

    static int insert(BatchStore store, BatchState state) {
        Batch batch = new Batch(-1, BatchRequest.of("/jobs/app.jar"), "alice", "", "", "",
                List.of(new StateChange(state, Instant.now(), "submitted")), Instant.now());
        return store.insert(batch, "");
    }

    /** The batch as stored, with one more change. */
    static Batch withChange(BatchStore store, int id, BatchState state, String reason) {
        Batch b = store.get(id).orElseThrow();
        List<StateChange> history = new ArrayList<>(b.history());
        history.add(new StateChange(state, Instant.now(), reason));
        return new Batch(b.id(), b.request(), b.owner(), b.appId(), b.sparkUiUrl(), b.driverLogUrl(), history,
                b.createdTime());
    }

    private static List<Integer> ids(List<BatchLeases.Held> held) {
        return held.stream().map(h -> h.lease().batchId()).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void liveBatchesNobodyHoldsAreClaimedOnceAndFinalOnesNever(String kind, Supplier<JdbcBatchStore> database) {
        try (JdbcBatchStore store = database.get()) {
            BatchLeases leases = store.leases();
            int waiting = insert(store, BatchState.NOT_STARTED);
            int running = insert(store, BatchState.RUNNING);
            insert(store, BatchState.SUCCESS);

            List<BatchLeases.Held> a = leases.claimFree("a", 10, LONG);
            List<BatchLeases.Held> b = leases.claimFree("b", 10, LONG);

            assertThat(ids(a)).containsExactly(waiting, running);
            assertThat(a).extracting(BatchLeases.Held::state).containsExactly("NOT_STARTED", "RUNNING");
            assertThat(a).allSatisfy(h -> assertThat(h.lease()).isEqualTo(new Lease(h.lease().batchId(), "a", 1)));
            assertThat(b).as("held by a").isEmpty();
            assertThat(leases.claim(waiting, "b", LONG)).isEmpty();
            assertThat(leases.holder(running)).contains(new Lease(running, "a", 1));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aClaimTakesAtMostWhatWasAskedLowestIdsFirst(String kind, Supplier<JdbcBatchStore> database) {
        try (JdbcBatchStore store = database.get()) {
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                all.add(insert(store, BatchState.NOT_STARTED));
            }

            assertThat(ids(store.leases().claimFree("a", 2, LONG))).containsExactlyElementsOf(all.subList(0, 2));
            assertThat(ids(store.leases().claimFree("b", 2, LONG))).containsExactlyElementsOf(all.subList(2, 4));
            assertThat(store.leases().claimFree("c", 0, LONG)).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aLeaseNotRenewedRunsOutByTheDatabasesClockAndTheNextClaimFencesTheOldHolder(String kind,
                                                                                     Supplier<JdbcBatchStore> database) {
        try (JdbcBatchStore store = database.get()) {
            BatchLeases leases = store.leases();
            int id = insert(store, BatchState.RUNNING);
            Lease a = leases.claim(id, "a", Duration.ofMillis(300)).orElseThrow().lease();
            store.save(withChange(store, id, BatchState.RUNNING, "a writes"), a);

            await().atMost(Duration.ofSeconds(10)).until(() -> leases.claim(id, "b", LONG).isPresent());
            Lease b = leases.holder(id).orElseThrow();

            assertThat(b).isEqualTo(new Lease(id, "b", 2));
            assertThatThrownBy(() -> store.save(withChange(store, id, BatchState.DEAD, "a wakes up"), a))
                    .isInstanceOf(LeaseLostException.class).hasMessageContaining("batch " + id);
            assertThat(store.get(id).orElseThrow().history()).extracting(StateChange::reason)
                    .containsExactly("submitted", "a writes");
            assertThat(leases.renew("a", LONG)).as("a holds nothing now").isEmpty();
            store.save(withChange(store, id, BatchState.RUNNING, "b writes"), b);
            assertThat(store.get(id).orElseThrow().state()).isEqualTo(BatchState.RUNNING);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void renewalKeepsEveryLeaseOfAReplicaInOneStatementAndReportsKillRequests(String kind,
                                                                             Supplier<JdbcBatchStore> database) {
        try (JdbcBatchStore store = database.get()) {
            BatchLeases leases = store.leases();
            int one = insert(store, BatchState.RUNNING);
            int two = insert(store, BatchState.STARTING);
            int others = insert(store, BatchState.RUNNING);
            leases.claim(one, "a", Duration.ofSeconds(2));
            leases.claim(two, "a", Duration.ofSeconds(2));
            leases.claim(others, "b", LONG);

            assertThat(leases.requestKill(two)).isTrue();
            assertThat(leases.requestKill(99_999)).isFalse();
            List<BatchLeases.Held> renewed = leases.renew("a", LONG);

            assertThat(renewed).containsExactly(new BatchLeases.Held(new Lease(one, "a", 1), "RUNNING", false),
                    new BatchLeases.Held(new Lease(two, "a", 1), "STARTING", true));
            assertThat(leases.claimFree("c", 10, LONG)).as("all renewed, long after the first TTL").isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aFinalStateOrAReleaseLetsTheBatchGo(String kind, Supplier<JdbcBatchStore> database) {
        try (JdbcBatchStore store = database.get()) {
            BatchLeases leases = store.leases();
            int finished = insert(store, BatchState.RUNNING);
            int released = insert(store, BatchState.RUNNING);
            Lease f = leases.claim(finished, "a", LONG).orElseThrow().lease();
            Lease r = leases.claim(released, "a", LONG).orElseThrow().lease();

            store.save(withChange(store, finished, BatchState.SUCCESS, "exit code 0"), f);
            assertThat(leases.release(r)).isTrue();
            assertThat(leases.release(r)).as("released already").isFalse();

            assertThat(leases.holder(finished)).isEmpty();
            assertThat(leases.renew("a", LONG)).isEmpty();
            assertThat(ids(leases.claimFree("b", 10, LONG))).containsExactly(released);
            assertThat(leases.holder(released)).contains(new Lease(released, "b", 2));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aFencedWriteToADeletedBatchIsALostLease(String kind, Supplier<JdbcBatchStore> database) {
        try (JdbcBatchStore store = database.get()) {
            int id = insert(store, BatchState.RUNNING);
            Lease a = store.leases().claim(id, "a", LONG).orElseThrow().lease();
            Batch next = withChange(store, id, BatchState.KILLED, "deleted");
            store.delete(id);

            assertThatThrownBy(() -> store.save(next, a)).isInstanceOf(LeaseLostException.class);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aReplicaLearnsWhenTheFirstLiveLeaseOfAnotherRunsOut(String kind, Supplier<JdbcBatchStore> database) {
        try (JdbcBatchStore store = database.get()) {
            BatchLeases leases = store.leases();
            int soon = insert(store, BatchState.RUNNING);
            int later = insert(store, BatchState.RUNNING);
            int mine = insert(store, BatchState.RUNNING);
            int ended = insert(store, BatchState.RUNNING);
            assertThat(leases.claim(soon, "b", Duration.ofMinutes(1))).isPresent();
            assertThat(leases.claim(later, "b", LONG)).isPresent();
            assertThat(leases.claim(mine, "a", Duration.ofSeconds(20))).isPresent();
            assertThat(leases.claim(ended, "c", Duration.ofSeconds(30))).isPresent();
            store.save(withChange(store, ended, BatchState.SUCCESS, "done"), new Lease(ended, "c", 1));

            Duration untilFirst = leases.nextExpiryOfOthers("a").orElseThrow();

            assertThat(untilFirst).as("b's lease on batch %d, not a's own nor the final batch's", soon)
                    .isGreaterThan(Duration.ofSeconds(30)).isLessThanOrEqualTo(Duration.ofMinutes(1));
            assertThat(leases.nextExpiryOfOthers("b").orElseThrow()).isPositive()
                    .isLessThanOrEqualTo(Duration.ofSeconds(20));
            leases.release(new Lease(mine, "a", 1));
            assertThat(leases.nextExpiryOfOthers("b")).as("nothing held by others").isEmpty();
        }
    }
}
