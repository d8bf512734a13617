package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Where batches are kept and how long each phase of a batch may last.
 *
 * @param storeUrl JDBC URL of the batch database; empty for the embedded H2 file database in the data
 *                 directory
 * @param storeUser database user
 * @param storePassword database password
 * @param retention how long a finished batch stays listable and readable before it and its log are removed
 * @param notStartedTimeout longest wait for a launch slot; then the batch ends {@code dead}
 * @param startingTimeout longest time in {@code starting}; then the application is killed and the batch ends {@code dead}
 * @param runningTimeout longest time in {@code running}; zero for no limit
 */
public record DurabilityConfig(
        String storeUrl,
        String storeUser,
        String storePassword,
        Duration retention,
        Duration notStartedTimeout,
        Duration startingTimeout,
        Duration runningTimeout) {

    public DurabilityConfig {
        requireNonNull(storeUrl, "storeUrl");
        requireNonNull(storeUser, "storeUser");
        requireNonNull(storePassword, "storePassword");
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

    /** The defaults: embedded H2, 7 days retention, 1 h queued, 10 min starting, 7 days running. */
    public static DurabilityConfig defaults() {
        return new DurabilityConfig("", "sparkgate", "", Duration.ofDays(7), Duration.ofHours(1),
                Duration.ofMinutes(10), Duration.ofDays(7));
    }
}
