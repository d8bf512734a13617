package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;

/**
 * How long each phase of a batch may last, and how long a finished one is kept
 * ({@code sparkgate.timeout.*}, {@code sparkgate.retention}).
 *
 * @param retention how long a finished batch stays listable and readable before it and its log are removed
 * @param notStartedTimeout longest wait for a launch slot; then the batch ends {@code dead}
 * @param startingTimeout longest time in {@code starting}; then the application is killed and the batch ends {@code dead}
 * @param runningTimeout longest time in {@code running}; zero for no limit
 */
public record DeadlineSettings(
        Duration retention,
        Duration notStartedTimeout,
        Duration startingTimeout,
        Duration runningTimeout) {

    public DeadlineSettings {
        requireNonNull(retention, "retention");
        requireNonNull(notStartedTimeout, "notStartedTimeout");
        requireNonNull(startingTimeout, "startingTimeout");
        requireNonNull(runningTimeout, "runningTimeout");
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("retention must be positive: " + retention);
        }
        if (notStartedTimeout.isZero() || notStartedTimeout.isNegative()
            || startingTimeout.isZero() || startingTimeout.isNegative()) {
            throw new IllegalArgumentException("the not-started and starting timeouts must be positive");
        }
    }

    /** The defaults: 7 days retention, 1 h queued, 10 min starting, 7 days running. */
    public static DeadlineSettings defaults() {
        return from(Map.of());
    }

    static DeadlineSettings from(Map<String, String> values) {
        return new DeadlineSettings(ConfigKeys.RETENTION.get(values), ConfigKeys.TIMEOUT_NOT_STARTED.get(values),
                ConfigKeys.TIMEOUT_STARTING.get(values), ConfigKeys.TIMEOUT_RUNNING.get(values));
    }
}
