package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * How the server is run by an operator: who may scrape {@code /metrics}, how it drains on SIGTERM, and
 * the access log.
 *
 * <p>Drain: readiness ({@code /readyz}, gRPC health) goes false at once; for {@code drainGrace} the server
 * still serves everything, so load balancers and clients see it leave before anything is refused; then
 * new requests get 503 / UNAVAILABLE with a retry hint, open log streams end (the client resumes on another
 * server) and in-flight calls may finish; after {@code drainTimeout} more at the latest, the process exits.
 * Running batches are not touched.
 *
 * @param metricsAuthenticated whether {@code /metrics} needs the same credentials as the API
 *                             ({@code sparkgate.metrics.authenticate}, default false: probes and scrapers
 *                             usually hold none); {@code /healthz} and {@code /readyz} never do
 * @param drainGrace {@code sparkgate.drain.grace} (5s): not ready, still serving
 * @param drainTimeout {@code sparkgate.drain.timeout} (30s): longest wait for in-flight calls after that
 * @param accessLog {@code sparkgate.access-log.enabled} (false): one line per request to
 *                  {@code <log dir>/access.log}, written asynchronously (it costs throughput: off by default)
 */
public record OpsSettings(boolean metricsAuthenticated, Duration drainGrace, Duration drainTimeout,
                          boolean accessLog) {

    public static final String METRICS_AUTHENTICATE = "sparkgate.metrics.authenticate";
    public static final String DRAIN_GRACE = "sparkgate.drain.grace";
    public static final String DRAIN_TIMEOUT = "sparkgate.drain.timeout";
    public static final String ACCESS_LOG = "sparkgate.access-log.enabled";

    /** The keys of this section; {@link ConfigLoader} rejects other {@code sparkgate.*} keys. */
    static final Set<String> KEYS = Set.of(METRICS_AUTHENTICATE, DRAIN_GRACE, DRAIN_TIMEOUT, ACCESS_LOG);

    /** Livy keys that mean the same as one of {@link #KEYS}. */
    static final Map<String, String> LIVY_ALIASES = Map.of();

    public OpsSettings {
        requireNonNull(drainGrace, "drainGrace");
        requireNonNull(drainTimeout, "drainTimeout");
    }

    static boolean accepts(String key) {
        return KEYS.contains(key);
    }

    /** Open /metrics, 5 s grace, 30 s for in-flight calls, no access log. */
    public static OpsSettings defaults() {
        return new OpsSettings(false, Duration.ofSeconds(5), Duration.ofSeconds(30), false);
    }

    static OpsSettings from(Map<String, String> values) {
        OpsSettings d = defaults();
        return new OpsSettings(
                values.containsKey(METRICS_AUTHENTICATE)
                        ? ConfigLoader.parseBoolean(METRICS_AUTHENTICATE, values.get(METRICS_AUTHENTICATE))
                        : d.metricsAuthenticated(),
                values.containsKey(DRAIN_GRACE)
                        ? ConfigLoader.parseDuration(DRAIN_GRACE, values.get(DRAIN_GRACE)) : d.drainGrace(),
                values.containsKey(DRAIN_TIMEOUT)
                        ? ConfigLoader.parseDuration(DRAIN_TIMEOUT, values.get(DRAIN_TIMEOUT)) : d.drainTimeout(),
                values.containsKey(ACCESS_LOG)
                        ? ConfigLoader.parseBoolean(ACCESS_LOG, values.get(ACCESS_LOG)) : d.accessLog());
    }
}
