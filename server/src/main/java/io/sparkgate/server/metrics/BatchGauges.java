package io.sparkgate.server.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.StateSummary;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Batches by state now, the waiting queue's depth and its oldest wait, read from the batch store when
 * scraped (one GROUP BY query, at most once a second however many gauges read it), so they are exact
 * after restarts, deletes and retention, and cost nothing between scrapes. Read on the scrape's thread
 * (a blocking one, see the server's /metrics route); the snapshot is replaced whole.
 */
public final class BatchGauges {

    private static final Duration MAX_AGE = Duration.ofSeconds(1);

    private final BatchStore store;
    private final Clock clock;
    private volatile Snapshot snapshot = new Snapshot(Instant.EPOCH, Map.of());

    public BatchGauges(BatchStore store, MeterRegistry registry, Clock clock) {
        this.store = requireNonNull(store, "store");
        this.clock = requireNonNull(clock, "clock");
        for (BatchState state : BatchState.values()) {
            Gauge.builder("sparkgate.batches", this, g -> g.current().count(state))
                    .description("Batches in each state now (finished ones until retention removes them)")
                    .tag("state", BatchCounters.label(state))
                    .strongReference(true) // the registry keeps this alive, not the caller
                    .register(registry);
        }
        Gauge.builder("sparkgate.admission.waiting", this, g -> g.current().count(BatchState.NOT_STARTED))
                .description("Batches waiting for a launch slot (not_started)")
                .strongReference(true)
                .register(registry);
        TimeGauge.builder("sparkgate.admission.oldest.wait", this, TimeUnit.SECONDS, g -> g.oldestWaitSeconds())
                .description("How long the longest-waiting batch has waited to start; 0 when none waits")
                .strongReference(true)
                .register(registry);
    }

    private double oldestWaitSeconds() {
        Snapshot s = current();
        StateSummary waiting = s.byState() == null ? null : s.byState().get(BatchState.NOT_STARTED);
        if (s.byState() == null) {
            return Double.NaN;
        }
        if (waiting == null) {
            return 0;
        }
        return Math.max(0, Duration.between(waiting.oldestCreated(), s.taken()).toMillis() / 1000.0);
    }

    private Snapshot current() {
        Snapshot s = snapshot;
        Instant now = clock.instant();
        if (Duration.between(s.taken(), now).compareTo(MAX_AGE) < 0) {
            return s;
        }
        Map<BatchState, StateSummary> byState = new EnumMap<>(BatchState.class);
        try {
            List<StateSummary> rows = store.summary();
            rows.forEach(row -> byState.put(row.state(), row));
            s = new Snapshot(now, byState);
        } catch (RuntimeException e) {
            s = new Snapshot(now, null); // the store is down (counted in sparkgate_store_errors_total): unknown
        }
        snapshot = s;
        return s;
    }

    private record Snapshot(Instant taken, Map<BatchState, StateSummary> byState) {
        double count(BatchState state) {
            if (byState == null) {
                return Double.NaN;
            }
            StateSummary row = byState.get(state);
            return row == null ? 0 : row.count();
        }
    }
}
