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
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.api.Test;

/**
 * The measurement: the tracker following 500 batches (simulated applications behind the
 * tracker's ResourceManager interface), its RM calls per interval and the time it takes to notice a
 * state change, against polling each batch's application on its own (Livy's way: one
 * getApplicationReport per batch per interval). Prints its numbers; asserts only the call count.
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
            for (String appId : sample.subList(0, 100)) {
                changedAt.put(appId, System.nanoTime());
                rm.set(appId, YarnApplicationState.RUNNING, FinalApplicationStatus.UNDEFINED, "");
                Thread.sleep(20); // changes spread over 2 s, at random points of the interval
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> runningSeenAt.keySet().containsAll(changedAt.keySet()));
            Thread.sleep(INTERVAL.toMillis());
            double seconds = (System.nanoTime() - start) / 1e9;
            long calls = rm.listCalls.get() - callsBefore;
            double intervals = seconds / (INTERVAL.toMillis() / 1000.0);

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
                      per batch: %d RM calls = %d per interval (one getApplicationReport per batch)
                      time to notice a change: p50 %d ms, p90 %d ms, max %d ms (interval %d ms)
                      one poll of %d batches against an in-process RM: %.2f ms of tracker work
                    """, BATCHES, INTERVAL.toMillis(), seconds, calls, calls / intervals,
                    Math.round(intervals * BATCHES), BATCHES, latencyMs.get(latencyMs.size() / 2),
                    latencyMs.get(latencyMs.size() * 9 / 10), latencyMs.get(latencyMs.size() - 1), INTERVAL.toMillis(),
                    BATCHES, pollMs);

            assertThat(calls / intervals).isLessThanOrEqualTo(1.01);
            assertThat(tracker.trackedCount()).isEqualTo(BATCHES);
        }
    }
}
