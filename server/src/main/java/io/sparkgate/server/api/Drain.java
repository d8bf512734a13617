package io.sparkgate.server.api;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.sparkgate.server.batch.BatchManager;
import io.sparkgate.server.config.OpsSettings;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's way out on SIGTERM, so that an orchestrator can replace it without clients noticing more
 * than a retry: not ready at once; new requests refused after a grace; open streams ended; in-flight
 * calls allowed to finish, within a bound. Batches are not touched: their processes keep running and the
 * next server re-attaches them.
 *
 * <p>As a server-wide decorator it counts the calls in flight and, once refusing, answers new ones with
 * 503 and {@code Retry-After} (gRPC: UNAVAILABLE with {@code grpc-retry-pushback-ms}). Probes and
 * {@code /metrics} are always served, so the drain can be watched. State: two fields, set by the drain
 * thread, read by every request's event loop.
 */
final class Drain implements DecoratingHttpServiceFunction {

    private static final Logger log = LoggerFactory.getLogger(Drain.class);
    /** What a refused client is told to wait before retrying (elsewhere, once its balancer noticed). */
    static final Duration RETRY_AFTER = Duration.ofSeconds(1);
    /** Always served, even while draining. */
    private static final Set<String> EXEMPT = Set.of("/healthz", "/readyz", "/metrics");
    private static final String GRPC_HEALTH = "/grpc.health.v1.Health/";

    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean refusing;

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        String path = ctx.path();
        if (EXEMPT.contains(path) || path.startsWith(GRPC_HEALTH)) {
            return delegate.serve(ctx, req);
        }
        if (refusing) {
            return refusal(req);
        }
        inFlight.incrementAndGet();
        ctx.log().whenComplete().thenRun(inFlight::decrementAndGet);
        return delegate.serve(ctx, req);
    }

    /** Calls being served now (probes and /metrics aside): what the drain waits for. */
    int inFlight() {
        return inFlight.get();
    }

    /**
     * Drains: {@code readiness} false, {@code grace} of normal service, then refusal of new calls, the end
     * of every stream of {@code manager}, and a wait of at most {@code timeout} for the calls in flight.
     * Blocks the calling thread (the shutdown hook) for at most grace + timeout.
     *
     * @return what is left of {@code timeout}: the bound for the rest of the stop (launches handing over)
     */
    Duration run(Readiness readiness, BatchManager manager, OpsSettings ops) {
        requireNonNull(readiness, "readiness");
        log.info("draining: not ready; refusing new requests in {}, then waiting at most {} for calls in flight",
                ops.drainGrace(), ops.drainTimeout());
        readiness.draining();
        pause(ops.drainGrace());
        refusing = true;
        manager.endStreams(new ServerDrainingException());
        long deadline = System.nanoTime() + ops.drainTimeout().toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            pause(Duration.ofMillis(20));
        }
        int left = inFlight.get();
        if (left > 0) {
            log.warn("drain: {} calls still in flight after {}; stopping anyway", left, ops.drainTimeout());
        } else {
            log.info("drain: no calls in flight; stopping");
        }
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static HttpResponse refusal(HttpRequest req) {
        MediaType type = req.contentType();
        String message = "the server is shutting down; retry on another server";
        if (type != null && type.subtype().startsWith("grpc")) {
            // Trailers-only: grpc-java clients read UNAVAILABLE, and the pushback as the retry delay.
            return HttpResponse.of(ResponseHeaders.builder(HttpStatus.OK)
                    .contentType(type)
                    .add("grpc-status", "14")
                    .add("grpc-message", message)
                    .add("grpc-retry-pushback-ms", Long.toString(RETRY_AFTER.toMillis()))
                    .endOfStream(true)
                    .build());
        }
        return HttpResponse.of(ResponseHeaders.builder(HttpStatus.SERVICE_UNAVAILABLE)
                        .contentType(MediaType.JSON_UTF_8)
                        .add(HttpHeaderNames.RETRY_AFTER, Long.toString(RETRY_AFTER.toSeconds()))
                        .build(),
                com.linecorp.armeria.common.HttpData.ofUtf8("{\"msg\":\"" + message + "\"}"));
    }
}
