package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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

    public static final String MAX_STARTING = "sparkgate.admission.max-starting";
    public static final String MAX_STARTING_PER_USER = "sparkgate.admission.max-starting-per-user";
    public static final String MAX_RUNNING = "sparkgate.admission.max-running";
    public static final String MAX_RUNNING_PER_USER = "sparkgate.admission.max-running-per-user";
    public static final String MAX_WAITING = "sparkgate.admission.max-waiting";
    public static final String RETRY_AFTER = "sparkgate.admission.retry-after";
    /** The old name of {@link #MAX_STARTING}, still accepted. */
    public static final String LAUNCH_THREADS = "sparkgate.launch.threads";
    /** The old name of {@link #MAX_WAITING}, still accepted. */
    public static final String LAUNCH_QUEUE_SIZE = "sparkgate.launch.queue-size";

    /** The keys of this section; {@link ConfigLoader} rejects other {@code sparkgate.*} keys. */
    static final Set<String> KEYS = Set.of(MAX_STARTING, MAX_STARTING_PER_USER, MAX_RUNNING, MAX_RUNNING_PER_USER,
            MAX_WAITING, RETRY_AFTER, LAUNCH_THREADS, LAUNCH_QUEUE_SIZE);

    /** Livy keys that mean the same as one of {@link #KEYS}. */
    static final Map<String, String> LIVY_ALIASES = Map.of();

    public AdmissionSettings {
        requireNonNull(retryAfter, "retryAfter");
        if (maxStarting < 1) {
            throw new IllegalArgumentException(MAX_STARTING + " must be >= 1, got " + maxStarting);
        }
        atLeastZero(MAX_STARTING_PER_USER, maxStartingPerUser);
        atLeastZero(MAX_RUNNING, maxRunning);
        atLeastZero(MAX_RUNNING_PER_USER, maxRunningPerUser);
        atLeastZero(MAX_WAITING, maxWaiting);
        if (retryAfter.toSeconds() < 1) {
            throw new IllegalArgumentException(RETRY_AFTER + " must be at least 1s, got " + retryAfter);
        }
    }

    /** Whether {@code key} (after Livy aliases) belongs to this section. */
    static boolean accepts(String key) {
        return KEYS.contains(key);
    }

    /** Two batches starting at once, no running limits, 100 waiting, retry after 5 s. */
    public static AdmissionSettings defaults() {
        return new AdmissionSettings(2, 0, 0, 0, 100, Duration.ofSeconds(5));
    }

    /** The section from the config's {@code sparkgate.*} values; a bad value throws {@link ConfigLoader.ConfigException}. */
    static AdmissionSettings from(Map<String, String> values) {
        AdmissionSettings d = defaults();
        try {
            return new AdmissionSettings(
                    renamed(values, MAX_STARTING, LAUNCH_THREADS).orElse(d.maxStarting()),
                    intOr(values, MAX_STARTING_PER_USER, d.maxStartingPerUser()),
                    intOr(values, MAX_RUNNING, d.maxRunning()),
                    intOr(values, MAX_RUNNING_PER_USER, d.maxRunningPerUser()),
                    renamed(values, MAX_WAITING, LAUNCH_QUEUE_SIZE).orElse(d.maxWaiting()),
                    Optional.ofNullable(values.get(RETRY_AFTER))
                            .map(v -> ConfigLoader.parseDuration(RETRY_AFTER, v))
                            .orElse(d.retryAfter()));
        } catch (IllegalArgumentException e) {
            throw new ConfigLoader.ConfigException("bad admission settings: " + e.getMessage());
        }
    }

    private static int intOr(Map<String, String> values, String key, int fallback) {
        String value = values.get(key);
        return value == null ? fallback : ConfigLoader.parseInt(key, value);
    }

    /** A key that also has an old name: either may be set, both only to the same value. */
    private static Optional<Integer> renamed(Map<String, String> values, String key, String oldName) {
        Optional<Integer> current = Optional.ofNullable(values.get(key)).map(v -> ConfigLoader.parseInt(key, v));
        Optional<Integer> old = Optional.ofNullable(values.get(oldName)).map(v -> ConfigLoader.parseInt(oldName, v));
        if (current.isPresent() && old.isPresent() && !current.equals(old)) {
            throw new ConfigLoader.ConfigException(key + " = " + current.get() + " and its old name " + oldName
                    + " = " + old.get() + " disagree: set only " + key);
        }
        return current.or(() -> old);
    }

    private static void atLeastZero(String key, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(key + " must be >= 0, got " + value);
        }
    }
}
