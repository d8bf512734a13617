package io.sparkgate.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Replicas racing for the same batches on a real PostgreSQL: each claims, renews, writes (fenced),
 * releases and now and then stops dead for longer than its leases last, as a replica in a long GC pause
 * or SIGSTOPped would, then carries on believing what it believed before. Whatever the interleaving,
 * the database never takes a write from a holder once another has claimed the batch: in each batch's
 * history, the writers' epochs never go back, and one epoch has one writer.
 *
 * <p>Random from a seed printed at the start (replay with {@code -Dsparkgate.lease.seed=N}); the
 * interleaving itself comes from real threads and the real database, so a replay takes the same
 * decisions, not necessarily the same race.
 */
class LeaseRaceTest {

    private static final int REPLICAS = 4;
    private static final int STEPS_PER_REPLICA = 1500;
    private static final int BATCHES = 12;
    /** Short, so that pauses and slow steps make leases run out often. */
    private static final Duration TTL = Duration.ofMillis(150);

    /** What the replicas did, as each of them saw it. */
    private final AtomicInteger writes = new AtomicInteger();
    private final AtomicInteger fenced = new AtomicInteger();
    private final AtomicInteger pauses = new AtomicInteger();
    private final Map<String, Integer> acknowledged = new ConcurrentHashMap<>();

    @Test
    void noBatchEverTakesAWriteFromTwoHoldersAtOnce() throws Exception {
        long seed = Long.getLong("sparkgate.lease.seed", System.nanoTime());
        System.out.println("LeaseRaceTest seed " + seed + " (replay with -Dsparkgate.lease.seed=" + seed + ")");
        try (JdbcBatchStore store = TestPostgres.newStore()) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < BATCHES; i++) {
                ids.add(BatchLeasesTest.insert(store, BatchState.RUNNING));
            }
            ExecutorService pool = Executors.newFixedThreadPool(REPLICAS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> replicas = new ArrayList<>();
            for (int r = 0; r < REPLICAS; r++) {
                String name = "replica-" + r;
                Random random = new Random(seed + r);
                replicas.add(pool.submit(() -> {
                    start.await();
                    new Replica(name, store, random).run();
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> replica : replicas) {
                replica.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();

            for (int id : ids) {
                assertOneHolderAtATime(id, store.get(id).orElseThrow().history());
            }
            List<String> stored = new ArrayList<>();
            for (int id : ids) {
                store.get(id).orElseThrow().history().stream().map(StateChange::reason)
                        .filter(reason -> reason.startsWith("w ")).forEach(stored::add);
            }
            assertThat(stored).as("every acknowledged write is in the database, and only those")
                    .containsExactlyInAnyOrderElementsOf(acknowledged.keySet());
            System.out.printf("LeaseRaceTest: %d writes taken, %d fenced, %d pauses%n", writes.get(), fenced.get(),
                    pauses.get());
            assertThat(fenced.get()).as("paused replicas came back and were fenced").isPositive();
            assertThat(writes.get()).as("replicas got work done").isGreaterThan(REPLICAS * STEPS_PER_REPLICA / 10);
            assertThat(maxEpoch(store, ids)).as("batches changed hands").isGreaterThan(1);
        }
    }

    /** Writers' epochs never decrease along the history, and each epoch was written by one holder. */
    private static void assertOneHolderAtATime(int id, List<StateChange> history) {
        long lastEpoch = 0;
        Map<Long, String> writerOfEpoch = new HashMap<>();
        for (StateChange change : history) {
            if (!change.reason().startsWith("w ")) {
                continue;
            }
            String[] parts = change.reason().split(" "); // w <holder> <epoch> <n>
            long epoch = Long.parseLong(parts[2]);
            assertThat(epoch).as("batch %d: a write of epoch %d after one of epoch %d", id, epoch, lastEpoch)
                    .isGreaterThanOrEqualTo(lastEpoch);
            String previous = writerOfEpoch.putIfAbsent(epoch, parts[1]);
            assertThat(previous == null ? parts[1] : previous).as("batch %d epoch %d", id, epoch).isEqualTo(parts[1]);
            lastEpoch = epoch;
        }
    }

    private static long maxEpoch(JdbcBatchStore store, List<Integer> ids) {
        long max = 0;
        for (int id : ids) {
            for (StateChange change : store.get(id).orElseThrow().history()) {
                if (change.reason().startsWith("w ")) {
                    max = Math.max(max, Long.parseLong(change.reason().split(" ")[2]));
                }
            }
        }
        return max;
    }

    /** One replica's loop: its own belief of what it holds, acted on without checking the clock. */
    private final class Replica {
        private final String name;
        private final JdbcBatchStore store;
        private final Random random;
        private final Map<Integer, Lease> held = new HashMap<>();
        private int written;

        Replica(String name, JdbcBatchStore store, Random random) {
            this.name = name;
            this.store = store;
            this.random = random;
        }

        void run() {
            for (int step = 0; step < STEPS_PER_REPLICA; step++) {
                int dice = random.nextInt(100);
                if (dice < 15) {
                    store.leases().claimFree(name, 1 + random.nextInt(3), TTL)
                            .forEach(h -> held.put(h.lease().batchId(), h.lease()));
                } else if (dice < 35) {
                    held.clear();
                    store.leases().renew(name, TTL).forEach(h -> held.put(h.lease().batchId(), h.lease()));
                } else if (dice < 90) {
                    write();
                } else if (dice < 93) {
                    release();
                } else if (dice < 94) {
                    pauses.incrementAndGet();
                    // Stopped dead past the lease: a GC pause, SIGSTOP, a slow disk.
                    LockSupport.parkNanos(Duration.ofMillis(100 + random.nextInt(150)).toNanos());
                }
            }
        }

        private void write() {
            if (held.isEmpty()) {
                return;
            }
            List<Lease> mine = new ArrayList<>(held.values());
            Lease lease = mine.get(random.nextInt(mine.size()));
            String reason = "w " + name + " " + lease.epoch() + " " + (written++);
            try {
                store.save(BatchLeasesTest.withChange(store, lease.batchId(), BatchState.RUNNING, reason), lease);
                writes.incrementAndGet();
                acknowledged.put(reason, lease.batchId());
            } catch (LeaseLostException e) {
                fenced.incrementAndGet();
                held.remove(lease.batchId());
            }
        }

        private void release() {
            if (held.isEmpty()) {
                return;
            }
            Lease lease = held.values().iterator().next();
            held.remove(lease.batchId());
            store.leases().release(lease);
        }
    }
}
