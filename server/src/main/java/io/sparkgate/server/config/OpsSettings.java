package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;

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

    public OpsSettings {
        requireNonNull(drainGrace, "drainGrace");
        requireNonNull(drainTimeout, "drainTimeout");
    }

    /** Open /metrics, 5 s grace, 30 s for in-flight calls, no access log. */
    public static OpsSettings defaults() {
        return from(Map.of());
    }

    static OpsSettings from(Map<String, String> values) {
        return new OpsSettings(ConfigKeys.METRICS_AUTHENTICATE.get(values), ConfigKeys.DRAIN_GRACE.get(values),
                ConfigKeys.DRAIN_TIMEOUT.get(values), ConfigKeys.ACCESS_LOG.get(values));
    }
}
