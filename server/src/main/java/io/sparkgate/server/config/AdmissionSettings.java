package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;

/**
 * The {@code sparkgate.admission.*} settings: how many batches may start and run at once, globally and
 * per user (the batch's owner; the anonymous owner counts as one user), and how many may wait.
 *
 * <p>A batch is <em>starting</em> from its launch until its application runs (local mode: the
 * {@code spark-submit} process is up; YARN: YARN says RUNNING), and <em>running</em> from its launch
 * until a final state, so a starting batch counts against both limits. Batches over a limit wait as
 * {@code not_started}, first come first served per user; past {@code maxWaiting} a create is refused
 * (429 / RESOURCE_EXHAUSTED) with {@code retryAfter}.
 *
 * @param maxStarting batches starting at once, at least 1 ({@code sparkgate.admission.max-starting}, old
 *                    name {@code sparkgate.launch.threads}); also the threads that call {@code spark-submit}
 * @param maxStartingPerUser batches of one user starting at once; 0 for no limit
 * @param maxRunning batches running (or starting) at once; 0 for no limit. None by default: on YARN the
 *                   cluster's scheduler queues applications knowing the cluster's resources, and in local
 *                   mode the right number depends on the host's memory per driver, which only its operator knows
 * @param maxRunningPerUser batches of one user running (or starting) at once; 0 for no limit
 * @param maxWaiting batches that may wait before creates are refused; 0 for none at all
 *                   ({@code sparkgate.admission.max-waiting}, old name {@code sparkgate.launch.queue-size})
 * @param retryAfter the {@code Retry-After} a refused create is given
 */
public record AdmissionSettings(
        int maxStarting,
        int maxStartingPerUser,
        int maxRunning,
        int maxRunningPerUser,
        int maxWaiting,
        Duration retryAfter) {

    public AdmissionSettings {
        requireNonNull(retryAfter, "retryAfter");
        if (maxStarting < 1) {
            throw new IllegalArgumentException(ConfigKeys.MAX_STARTING + " must be >= 1, got " + maxStarting);
        }
        atLeastZero(ConfigKeys.MAX_STARTING_PER_USER, maxStartingPerUser);
        atLeastZero(ConfigKeys.MAX_RUNNING, maxRunning);
        atLeastZero(ConfigKeys.MAX_RUNNING_PER_USER, maxRunningPerUser);
        atLeastZero(ConfigKeys.MAX_WAITING, maxWaiting);
        if (retryAfter.toSeconds() < 1) {
            throw new IllegalArgumentException(ConfigKeys.RETRY_AFTER + " must be at least 1s, got " + retryAfter);
        }
    }

    /** Two batches starting at once, no running limits, 100 waiting, retry after 5 s. */
    public static AdmissionSettings defaults() {
        return from(Map.of());
    }

    /** The section from the config's {@code sparkgate.*} values; a bad value throws {@link ConfigLoader.ConfigException}. */
    static AdmissionSettings from(Map<String, String> values) {
        try {
            return new AdmissionSettings(
                    ConfigKeys.MAX_STARTING.get(values),
                    ConfigKeys.MAX_STARTING_PER_USER.get(values),
                    ConfigKeys.MAX_RUNNING.get(values),
                    ConfigKeys.MAX_RUNNING_PER_USER.get(values),
                    ConfigKeys.MAX_WAITING.get(values),
                    ConfigKeys.RETRY_AFTER.get(values));
        } catch (IllegalArgumentException e) {
            throw new ConfigLoader.ConfigException("bad admission settings: " + e.getMessage());
        }
    }

    private static void atLeastZero(ConfigKey<?> key, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(key + " must be >= 0, got " + value);
        }
    }
}
