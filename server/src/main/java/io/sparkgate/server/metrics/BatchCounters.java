package io.sparkgate.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.batch.BatchMetrics;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The batch layer's events as Prometheus counters and histograms. Labels are fixed, small sets (outcome,
 * state, reason): never a user or a batch id. Every meter exists from the start, at 0, so a rate over
 * the first event is right. Micrometer's meters are thread-safe; this class holds nothing else.
 */
public final class BatchCounters implements BatchMetrics {

    /** Submit latency and run duration: 0.5 s to a day (spark-operator's users asked for buckets past 300 s). */
    static final Duration[] BATCH_BUCKETS = ServerMetrics.durations(
            0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400);

    private final Map<Submission, Counter> submitted = new EnumMap<>(Submission.class);
    private final Map<LaunchFailure, Counter> launchFailures = new EnumMap<>(LaunchFailure.class);
    private final Map<BatchState, Counter> finished = new EnumMap<>(BatchState.class);
    private final Map<BatchState, Timer> runDuration = new EnumMap<>(BatchState.class);
    private final Timer submitLatency;

    public BatchCounters(MeterRegistry registry) {
        for (Submission outcome : Submission.values()) {
            submitted.put(outcome, Counter.builder("sparkgate.batches.submitted")
                    .description("Batch creates answered, by outcome (a deduplicated create repeated a request id)")
                    .tag("outcome", label(outcome))
                    .register(registry));
        }
        for (LaunchFailure reason : LaunchFailure.values()) {
            launchFailures.put(reason, Counter.builder("sparkgate.batch.launch.failures")
                    .description("Batches that ended dead before their application ran, by reason")
                    .tag("reason", label(reason))
                    .register(registry));
        }
        for (BatchState state : BatchState.values()) {
            if (!state.isFinal()) {
                continue;
            }
            finished.put(state, Counter.builder("sparkgate.batches.finished")
                    .description("Batches that reached a final state, by that state")
                    .tag("state", label(state))
                    .register(registry));
            runDuration.put(state, Timer.builder("sparkgate.batch.run.duration")
                    .description("Time from running to the final state, of batches that ran, by final state")
                    .tag("state", label(state))
                    .serviceLevelObjectives(BATCH_BUCKETS)
                    .register(registry));
        }
        submitLatency = Timer.builder("sparkgate.batch.submit.latency")
                .description("Time from create to running (queueing and spark-submit's start included)")
                .serviceLevelObjectives(BATCH_BUCKETS)
                .register(registry);
    }

    @Override
    public void submitted(Submission outcome) {
        submitted.get(outcome).increment();
    }

    @Override
    public void changed(Batch batch, BatchState from) {
        BatchState state = batch.state();
        StateChange now = batch.lastChange();
        if (state == BatchState.RUNNING) {
            submitLatency.record(nonNegative(Duration.between(batch.createdTime(), now.time())));
        } else if (state.isFinal()) {
            finished.get(state).increment();
            ranSince(batch.history()).ifPresent(running ->
                    runDuration.get(state).record(nonNegative(Duration.between(running, now.time()))));
        }
    }

    @Override
    public void launchFailed(LaunchFailure reason) {
        launchFailures.get(reason).increment();
    }

    private static java.util.Optional<java.time.Instant> ranSince(List<StateChange> history) {
        return history.stream().filter(c -> c.state() == BatchState.RUNNING).map(StateChange::time).findFirst();
    }

    private static Duration nonNegative(Duration d) {
        return d.isNegative() ? Duration.ZERO : d;
    }

    static String label(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
