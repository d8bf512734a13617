package io.sparkgate.server.api;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpResponseWriter;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.sparkgate.server.batch.Batch;
import io.sparkgate.server.batch.BatchFilter;
import io.sparkgate.server.batch.BatchSink;
import io.sparkgate.server.batch.BatchManager;
import io.sparkgate.server.batch.BatchState;
import io.sparkgate.server.batch.InvalidBatchRequestException;
import io.sparkgate.server.batch.LogSink;
import io.sparkgate.server.batch.StateChange;
import io.sparkgate.server.batch.StateSink;
import io.sparkgate.server.batch.Subscription;
import io.sparkgate.server.metrics.LogStreamMetrics;
import io.sparkgate.server.security.AccessPolicy;
import io.sparkgate.server.security.Callers;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The streaming RPCs for REST clients, as Server-Sent Events (Armeria does not transcode server
 * streaming): {@code GET /batches/{id}/log/stream} and {@code GET /batches/{id}/events}.
 *
 * <p>Each log event's {@code id:} is the line's offset, so a client that reconnects with
 * {@code Last-Event-ID: K} resumes at line K+1, with no gap and no duplicate; {@code ?from=K} starts
 * at line K. Flow control: the next chunk is written only once the previous one was taken by the
 * connection, so a slow reader holds a cursor, not a buffer.
 */
final class SseRoutes {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MediaType EVENT_STREAM = MediaType.parse("text/event-stream; charset=utf-8");
    /** Events are written in chunks of about this many bytes. */
    private static final int CHUNK = 32 * 1024;

    private final BatchManager manager;
    private final AccessPolicy access;
    private final LogStreamMetrics streams;

    SseRoutes(BatchManager manager, AccessPolicy access, LogStreamMetrics streams) {
        this.manager = requireNonNull(manager, "manager");
        this.access = requireNonNull(access, "access");
        this.streams = requireNonNull(streams, "streams");
    }

    /** Adds the routes, each service wrapped in {@code decorator} (authentication). */
    void addTo(ServerBuilder sb, Function<? super HttpService, ? extends HttpService> decorator) {
        HttpService logStream = (ctx, req) -> logStream(ctx, req.headers().get("last-event-id"));
        HttpService events = (ctx, req) -> events(ctx);
        sb.service("/batches/{id}/log/stream", logStream.decorate(decorator));
        sb.service("/batches/{id}/events", events.decorate(decorator));
        // Not under /batches/: Livy reads any /batches/{segment} as a batch id or name.
        HttpService watchBatches = (ctx, req) -> watchBatches(ctx);
        sb.service("/watch/batches", watchBatches.decorate(decorator));
    }

    /** Every change of every batch the caller may list: {@code event: batch}, data the Batch object's JSON. */
    private HttpResponse watchBatches(ServiceRequestContext ctx) {
        BatchFilter visible = BatchFilter.all(access.listScope(access.admit(Callers.of(ctx))));
        HttpResponseWriter res = HttpResponse.streaming();
        start(ctx, res);
        // A comment first, so a client sees the stream open (and knows changes from now on reach it).
        res.write(HttpData.ofUtf8(": watching\n\n"));
        SseBatchSink sink = new SseBatchSink(res);
        Subscription sub = manager.watchAll(visible, sink);
        sink.subscription = sub;
        res.whenComplete().handle((ok, err) -> {
            sub.cancel();
            return null;
        });
        sub.wake();
        return res;
    }

    private HttpResponse logStream(ServiceRequestContext ctx, String lastEventId) {
        int id = intParam("id", ctx.pathParam("id"));
        OptionalInt from = OptionalInt.empty();
        String fromParam = ctx.queryParam("from");
        if (fromParam != null) {
            from = OptionalInt.of(intParam("from", fromParam));
        }
        if (lastEventId != null && !lastEventId.isBlank()) {
            int seen = intParam("Last-Event-ID", lastEventId.trim());
            if (seen < -1) {
                throw new InvalidBatchRequestException("'Last-Event-ID' must be a line offset >= 0, got " + seen);
            }
            // The line after the last one seen; no line follows the largest offset (and +1 would wrap).
            from = OptionalInt.of(seen == Integer.MAX_VALUE ? seen : seen + 1);
        }
        if (from.isPresent() && from.getAsInt() < 0) {
            throw new InvalidBatchRequestException("'from' must be >= 0, got " + from.getAsInt());
        }
        // An unknown batch is a JSON 404 (and another user's a 403), not a 200 stream carrying an error.
        Batch batch = access.checkRead(access.admit(Callers.of(ctx)), manager.get(id));
        HttpResponseWriter res = HttpResponse.streaming();
        start(ctx, res);
        LogStreamMetrics.Follower follower = streams.follower(LogStreamMetrics.Transport.SSE);
        SseLogSink sink = new SseLogSink(res, follower);
        Subscription sub;
        try {
            sub = manager.followLog(batch, from, sink);
        } catch (RuntimeException e) {
            follower.ended();
            res.close(); // deleted a moment ago
            return res;
        }
        sink.subscription = sub;
        res.whenComplete().handle((ok, err) -> {
            sub.cancel();
            follower.ended();
            return null;
        });
        sub.wake();
        return res;
    }

    private HttpResponse events(ServiceRequestContext ctx) {
        int id = intParam("id", ctx.pathParam("id"));
        Batch batch = access.checkRead(access.admit(Callers.of(ctx)), manager.get(id));
        HttpResponseWriter res = HttpResponse.streaming();
        start(ctx, res);
        Subscription sub;
        try {
            sub = manager.watch(batch, new SseStateSink(res));
        } catch (RuntimeException e) {
            res.close(); // deleted a moment ago
            return res;
        }
        res.whenComplete().handle((ok, err) -> {
            sub.cancel();
            return null;
        });
        return res;
    }

    private static void start(ServiceRequestContext ctx, HttpResponseWriter res) {
        // Streams live as long as their batch.
        ctx.clearRequestTimeout();
        res.write(ResponseHeaders.builder(HttpStatus.OK)
                .contentType(EVENT_STREAM)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .build());
    }

    private static int intParam(String name, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            String shown = value.length() <= 100 ? value : value.substring(0, 100) + "...";
            throw new InvalidBatchRequestException("'" + name + "' must be an integer, got '" + shown + "'");
        }
    }

    /** The last event of both streams: {@code event: end}, {@code data: {"state": "<final>"}}. */
    private static HttpData endEvent(BatchState finalState) {
        return HttpData.ofUtf8("event: end\ndata: " + json(Map.of("state", finalState.name().toLowerCase(Locale.ROOT))) + "\n\n");
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * State changes as SSE events: {@code {"state","time","reason"}} each; after the final one an
     * {@code end} event as {@code /log/stream} sends, then the stream closes. Without it a browser's
     * EventSource cannot tell the end from a dropped connection and reconnects for ever; one that does
     * reconnect gets the final state and {@code end} again at once.
     */
    private static final class SseStateSink implements StateSink {
        private final HttpResponseWriter res;
        /** The last state sent; only the feed's one thread at a time touches it. */
        private BatchState last;

        SseStateSink(HttpResponseWriter res) {
            this.res = res;
        }

        @Override
        public void change(StateChange change) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("state", change.state().name().toLowerCase(Locale.ROOT));
            data.put("time", change.time().toString());
            data.put("reason", change.reason());
            last = change.state();
            res.tryWrite(HttpData.ofUtf8("event: state\ndata: " + json(data) + "\n\n"));
        }

        @Override
        public void end() {
            if (last != null) {
                res.tryWrite(endEvent(last));
            }
            res.close();
        }

        @Override
        public void fail(Throwable cause) {
            closeFailed(res, cause);
        }
    }

    /**
     * Ends a stream that cannot go on. When the server drains, a clean close without an {@code end} event:
     * an EventSource reconnects (to another server, after {@code retry:}) with its Last-Event-ID.
     */
    private static void closeFailed(HttpResponseWriter res, Throwable cause) {
        if (cause instanceof ServerDrainingException) {
            res.tryWrite(HttpData.ofUtf8("retry: " + Drain.RETRY_AFTER.toMillis() + "\n\n"));
            res.close();
        } else {
            res.close(cause);
        }
    }

    /** Batches as SSE events, one in flight at a time (the feed keeps only the newest of each batch meanwhile). */
    private static final class SseBatchSink implements BatchSink {
        private final HttpResponseWriter res;
        private final AtomicBoolean inFlight = new AtomicBoolean();
        private volatile Subscription subscription;

        SseBatchSink(HttpResponseWriter res) {
            this.res = res;
        }

        @Override
        public boolean isReady() {
            return subscription != null && res.isOpen() && !inFlight.get();
        }

        @Override
        public void batch(Batch batch) {
            java.io.StringWriter json = new java.io.StringWriter();
            try (com.fasterxml.jackson.core.JsonGenerator g = JSON.getFactory().createGenerator(json)) {
                LivyJsonMarshaller.writeMessage(g, BatchMessages.toProto(batch, List.of()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            inFlight.set(true);
            if (!res.tryWrite(HttpData.ofUtf8("event: batch\ndata: " + json + "\n\n"))) {
                return;
            }
            res.whenConsumed().thenRun(() -> {
                inFlight.set(false);
                subscription.wake();
            });
        }

        @Override
        public void fail(Throwable cause) {
            closeFailed(res, cause);
        }
    }

    /** Log lines as SSE events, one chunk in flight at a time. */
    private static final class SseLogSink implements LogSink {
        private final HttpResponseWriter res;
        private final AtomicBoolean inFlight = new AtomicBoolean();
        private final LogStreamMetrics.Follower follower;
        private volatile Subscription subscription;

        SseLogSink(HttpResponseWriter res, LogStreamMetrics.Follower follower) {
            this.res = res;
            this.follower = follower;
        }

        @Override
        public boolean isReady() {
            return subscription != null && res.isOpen() && !inFlight.get();
        }

        @Override
        public void lines(long firstOffset, List<String> lines) {
            StringBuilder chunk = new StringBuilder(Math.min(CHUNK * 2, lines.size() * 64));
            long offset = firstOffset;
            for (String line : lines) {
                chunk.append("id: ").append(offset++).append("\ndata: ")
                        .append(line.indexOf('\r') < 0 ? line : line.replace('\r', ' ')).append("\n\n");
            }
            inFlight.set(true);
            HttpData data = HttpData.ofUtf8(chunk.toString());
            follower.sent(data.length());
            if (!res.tryWrite(data)) {
                return; // the client is gone; whenComplete cancels the subscription
            }
            res.whenConsumed().thenRun(() -> {
                inFlight.set(false);
                subscription.wake();
            });
        }

        @Override
        public void end(BatchState finalState) {
            res.tryWrite(endEvent(finalState));
            res.close();
        }

        @Override
        public void fail(Throwable cause) {
            closeFailed(res, cause);
        }
    }
}
