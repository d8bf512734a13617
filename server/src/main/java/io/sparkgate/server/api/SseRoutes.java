package io.sparkgate.server.api;

import io.sparkgate.server.values.Text;

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
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchFilter;
import io.sparkgate.server.batch.BatchSink;
import io.sparkgate.server.batch.BatchManager;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.batch.LogSink;
import io.sparkgate.server.values.StateChange;
import io.sparkgate.server.batch.StateSink;
import io.sparkgate.server.batch.Subscription;
import io.sparkgate.server.metrics.LogStreamMetrics;
import io.sparkgate.server.security.AccessPolicy;
import io.sparkgate.server.security.Callers;
import java.util.LinkedHashMap;
import java.util.List;
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
 *
 * <p>Why the events are framed here and not by Armeria's {@code ServerSentEvents}: its flow control
 * would do ({@code fromPublisher} over a {@code StreamMessage.streaming()} writer, whose
 * {@code whenConsumed()} is the same one-chunk-in-flight signal used here), but its encoder (1.36) splits
 * a field's value at {@code \n} only and writes a lone {@code \r} as it is, which an EventSource reads as
 * the end of the line: a log line with a carriage return (a progress bar) would be cut into a broken
 * event. A log line is one line by construction (the tailer splits at {@code \n}), so the whole framing
 * is {@code id:}, {@code data:} with {@code \r} made a space, and a blank line: three appends, which a
 * pre-pass over every line for Armeria's encoder would not save.
 *
 * <p>Over 300 lines because it holds both streams' routes and their sinks, which share the framing,
 * the one-chunk-in-flight writer and the drain's close.
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
        sink.attach(manager.watchAll(visible, sink));
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
        BatchManager.nonNegative("from", from, 0);
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
        sink.attach(sub);
        res.whenComplete().handle((ok, err) -> {
            follower.ended();
            return null;
        });
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
            throw new InvalidBatchRequestException("'" + name + "' must be an integer, got '" + Text.shown(value) + "'");
        }
    }

    /** The last event of both streams: {@code event: end}, {@code data: {"state": "<final>"}}. */
    private static HttpData endEvent(BatchState finalState) {
        return HttpData.ofUtf8("event: end\ndata: " + json(Map.of("state", finalState.livyName())) + "\n\n");
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
            data.put("state", change.state().livyName());
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

    /**
     * The one-chunk-in-flight rule of both streaming sinks: a chunk is written only once the previous one
     * was taken by the connection, and then the feed is woken for the next, so a slow reader holds a
     * cursor, not a buffer.
     */
    private abstract static class OneChunkInFlight {
        final HttpResponseWriter res;
        private final AtomicBoolean inFlight = new AtomicBoolean();
        volatile Subscription subscription;

        OneChunkInFlight(HttpResponseWriter res) {
            this.res = res;
        }

        public boolean isReady() {
            return subscription != null && res.isOpen() && !inFlight.get();
        }

        /** Starts the flow: the feed sends once it is known here, and is cancelled when the response ends. */
        final void attach(Subscription sub) {
            subscription = sub;
            res.whenComplete().handle((ok, err) -> {
                sub.cancel();
                return null;
            });
            sub.wake();
        }

        /** Writes one chunk; returns its size in bytes. */
        final int write(String chunk) {
            inFlight.set(true);
            HttpData data = HttpData.ofUtf8(chunk);
            if (!res.tryWrite(data)) {
                return data.length(); // the client is gone; whenComplete cancels the subscription
            }
            res.whenConsumed().thenRun(() -> {
                inFlight.set(false);
                subscription.wake();
            });
            return data.length();
        }

        public void fail(Throwable cause) {
            closeFailed(res, cause);
        }
    }

    /** Batches as SSE events, one in flight at a time (the feed keeps only the newest of each batch meanwhile). */
    private static final class SseBatchSink extends OneChunkInFlight implements BatchSink {
        SseBatchSink(HttpResponseWriter res) {
            super(res);
        }

        @Override
        public void batch(Batch batch) {
            java.io.StringWriter json = new java.io.StringWriter();
            try (com.fasterxml.jackson.core.JsonGenerator g = JSON.getFactory().createGenerator(json)) {
                LivyJsonMarshaller.writeMessage(g, BatchMessages.toProto(batch, List.of()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            write("event: batch\ndata: " + json + "\n\n");
        }
    }

    /** Log lines as SSE events, one chunk in flight at a time. */
    private static final class SseLogSink extends OneChunkInFlight implements LogSink {
        private final LogStreamMetrics.Follower follower;

        SseLogSink(HttpResponseWriter res, LogStreamMetrics.Follower follower) {
            super(res);
            this.follower = follower;
        }

        @Override
        public void lines(long firstOffset, List<String> lines) {
            StringBuilder chunk = new StringBuilder(Math.min(CHUNK * 2, lines.size() * 64));
            long offset = firstOffset;
            for (String line : lines) {
                chunk.append("id: ").append(offset++).append("\ndata: ")
                        .append(line.indexOf('\r') < 0 ? line : line.replace('\r', ' ')).append("\n\n");
            }
            follower.sent(write(chunk.toString()));
        }

        @Override
        public void end(BatchState finalState) {
            res.tryWrite(endEvent(finalState));
            res.close();
        }
    }
}
