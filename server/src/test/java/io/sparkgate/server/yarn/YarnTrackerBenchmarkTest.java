package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.api.Test;

/**
 * The measurement: the tracker following 500 batches (simulated applications behind the
 * tracker's ResourceManager interface), its RM calls per interval and the time it takes to notice a
 * state change, against polling each batch's application on its own (Livy's way: one
 * getApplicationReport per batch per interval, run here against the same ResourceManager for as long).
 * Prints its numbers; asserts the call counts, both measured.
 */
class YarnTrackerBenchmarkTest {

    private static final int BATCHES = 500;
    private static final Duration INTERVAL = Duration.ofMillis(200);

    @Test
    void fiveHundredBatchesCostOneCallPerInterval() throws Exception {
        StubResourceManager rm = new StubResourceManager();
        Map<String, Long> runningSeenAt = new ConcurrentHashMap<>();
        List<String> appIds = new ArrayList<>();
        try (YarnTracker tracker = new YarnTracker(rm, INTERVAL, Duration.ofMinutes(5), Clock.systemUTC())) {
            for (int i = 0; i < BATCHES; i++) {
                String tag = "sparkgate-batch-" + i + "-bench";
                appIds.add(rm.submit(tag));
                tracker.track(tag, Optional.empty(), new YarnTracker.Observer() {
                    @Override
                    public void onReport(AppReport report) {
                        if (report.phase() == AppPhase.RUNNING) {
                            runningSeenAt.putIfAbsent(report.appId(), System.nanoTime());
                        }
                    }

                    @Override
                    public void onNotFound(String reason) {}
                });
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> rm.listCalls.get() >= 3); // warm up

            long callsBefore = rm.listCalls.get();
            long start = System.nanoTime();
            Map<String, Long> changedAt = new ConcurrentHashMap<>();
            List<String> sample = new ArrayList<>(appIds);
            Collections.shuffle(sample);
            // 100 changes at random points of 2 s, so they fall at every point of the poll interval.
            ScheduledExecutorService changes = Executors.newSingleThreadScheduledExecutor();
            Random random = new Random(42);
            try {
                for (String appId : sample.subList(0, 100)) {
                    changes.schedule(() -> {
                        changedAt.put(appId, System.nanoTime());
                        rm.set(appId, YarnApplicationState.RUNNING, FinalApplicationStatus.UNDEFINED, "");
                    }, random.nextInt(2000), TimeUnit.MILLISECONDS);
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> changedAt.size() == 100
                        && runningSeenAt.keySet().containsAll(changedAt.keySet()));
            } finally {
                changes.shutdownNow();
            }
            long callsAtEnd = rm.listCalls.get();
            await().atMost(Duration.ofSeconds(10)).until(() -> rm.listCalls.get() > callsAtEnd); // a whole last interval
            double seconds = (System.nanoTime() - start) / 1e9;
            long calls = rm.listCalls.get() - callsBefore;
            double intervals = seconds / (INTERVAL.toMillis() / 1000.0);
            long perBatchCalls = perBatchPolling(rm, appIds, seconds);

            List<Long> latencyMs = changedAt.entrySet().stream()
                    .map(e -> (runningSeenAt.get(e.getKey()) - e.getValue()) / 1_000_000)
                    .sorted().toList();
            long t0 = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                tracker.pollNow();
            }
            double pollMs = (System.nanoTime() - t0) / 20 / 1e6;

            System.out.printf("""
                    YARN tracker, %d batches, poll interval %d ms, %.1f s measured:
                      tracker:   %d RM calls = %.2f per interval (one getApplications with a tag filter)
                      per batch: %d RM calls = %.2f per interval (one report per batch, measured over as long)
                      time to notice a change: p50 %d ms, p90 %d ms, max %d ms (interval %d ms)
                      one poll of %d batches against an in-process RM: %.2f ms of tracker work
                    """, BATCHES, INTERVAL.toMillis(), seconds, calls, calls / intervals,
                    perBatchCalls, perBatchCalls / intervals, latencyMs.get(latencyMs.size() / 2),
                    latencyMs.get(latencyMs.size() * 9 / 10), latencyMs.get(latencyMs.size() - 1), INTERVAL.toMillis(),
                    BATCHES, pollMs);

            assertThat(calls / intervals).isLessThanOrEqualTo(1.01);
            assertThat(perBatchCalls).isGreaterThan(calls * 100); // the saving the tracker exists for
            assertThat(tracker.trackedCount()).isEqualTo(BATCHES);
        }
    }

    /**
     * Livy's way, measured: every interval, one ResourceManager call per batch (a report of its own
     * application), for {@code seconds}; returns the calls made.
     */
    private static long perBatchPolling(StubResourceManager rm, List<String> appIds, double seconds) throws Exception {
        long before = rm.listCalls.get();
        ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor();
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        try {
            poller.scheduleAtFixedRate(() -> {
                for (int i = 0; i < appIds.size() && System.nanoTime() < deadline; i++) {
                    rm.applicationsTagged(Set.of("sparkgate-batch-" + i + "-bench"));
                }
            }, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofSeconds((long) seconds + 10)).until(() -> System.nanoTime() >= deadline);
        } finally {
            poller.shutdownNow();
            poller.awaitTermination(5, TimeUnit.SECONDS);
        }
        return rm.listCalls.get() - before;
    }
}
