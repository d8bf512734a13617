package io.sparkgate.server.api;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpHeadersBuilder;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.common.grpc.GrpcJsonMarshaller;
import com.linecorp.armeria.common.util.Exceptions;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.grpc.UnframedGrpcErrorHandler;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import java.io.ByteArrayInputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP/JSON transcoding of the unary {@code GET} routes (a batch, its state, the list, a log page) and
 * of {@code POST /batches} without a gRPC wire in the middle. Armeria's transcoding turns such a request into JSON, frames it,
 * runs a whole framed gRPC call over it and unframes the answer again; on the REST face that round
 * trip cost more than the work (a JFR profile of {@code GET /batches?size=100}: a third of the server's
 * CPU in framing, deframing, stream plumbing and the request's own JSON, for 2-4 µs of the service's
 * work per batch). Here, on the transcoding service's own routes (the proto's {@code google.api.http}
 * rules), the request message is built as Armeria's transcoding builds it ({@link TranscodingRoute}: path
 * variables by proto field name, query parameters by proto or lowerCamel name, unknown ones ignored, the
 * last of a repeated one winning; a {@code body: "*"} request from its JSON body by the same marshaller
 * that reads it in Armeria's framed call, which for a create was a second JSON round trip: a tree, written
 * out again, framed, deframed and parsed), the method runs through its own gRPC call handler (the same service, interceptors, blocking
 * executor and exception handler as every gRPC call) and its answer is written by the same
 * {@link LivyJsonMarshaller} with the same headers; errors go through the same
 * {@link UnframedGrpcErrorHandler}. So a client sees byte for byte what Armeria's transcoding answers.
 *
 * <p>What it cannot build exactly as Armeria would (another method or verb, a value that does not parse,
 * a repeated or message field, a body with query parameters, an empty body or one the marshaller
 * refuses) goes on to Armeria's transcoding unchanged, whose errors stay the only
 * ones for malformed requests.
 */
final class DirectTranscoding implements DecoratingHttpServiceFunction {

    private static final ResponseHeaders OK_HEADERS = ResponseHeaders.builder(HttpStatus.OK)
            .add("grpc-encoding", "identity")
            .add("grpc-accept-encoding", "gzip")
            .add("grpc-status", "0") // request metrics tag the call by it, as they tag transcoded calls
            .contentType(MediaType.JSON_UTF_8)
            .build();

    private final GrpcExceptionHandlerFunction exceptions;
    private final UnframedGrpcErrorHandler errors;
    private final GrpcJsonMarshaller json;
    /** Per method of the service: how to build its request, or {@link TranscodingRoute#NONE} when not served here. */
    private final Map<ServerMethodDefinition<?, ?>, TranscodingRoute> routes = new ConcurrentHashMap<>();

    /**
     * @param exceptions the service's exception handler, as the gRPC service was built with it
     * @param errors     the transcoding's error handler
     * @param json       the transcoding's JSON marshaller
     */
    DirectTranscoding(GrpcExceptionHandlerFunction exceptions, UnframedGrpcErrorHandler errors, GrpcJsonMarshaller json) {
        this.exceptions = exceptions.orElse(GrpcExceptionHandlerFunction.of());
        this.errors = requireNonNull(errors, "errors");
        this.json = requireNonNull(json, "json");
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        if (req.method() != HttpMethod.GET && req.method() != HttpMethod.POST) {
            return delegate.serve(ctx, req);
        }
        GrpcService grpc = delegate.as(GrpcService.class);
        ServerMethodDefinition<?, ?> method = grpc == null ? null : grpc.methodDefinition(ctx);
        if (method == null) {
            return delegate.serve(ctx, req);
        }
        TranscodingRoute route = routes.computeIfAbsent(method, TranscodingRoute::of);
        if (req.method() == HttpMethod.POST) {
            return route.kind == TranscodingRoute.Kind.BODY && TranscodingRoute.bodyAlone(ctx, req.headers())
                   ? serveBody(delegate, ctx, req, method, route) : delegate.serve(ctx, req);
        }
        Message request = route.request(ctx);
        if (request == null) {
            return delegate.serve(ctx, req);
        }
        name(ctx, method);
        CompletableFuture<HttpResponse> response = new CompletableFuture<>();
        ctx.blockingTaskExecutor().execute(() -> call(ctx, method, route, request, response));
        return HttpResponse.of(response);
    }

    /**
     * A {@code body: "*"} call: the body is read whole, then parsed and run on the blocking executor, as the
     * framed call would be. A body that is empty or that the marshaller refuses goes to Armeria's
     * transcoding as it came, so its answer to a malformed body stays the only one.
     */
    private HttpResponse serveBody(HttpService delegate, ServiceRequestContext ctx, HttpRequest req,
                                   ServerMethodDefinition<?, ?> method, TranscodingRoute route) {
        CompletableFuture<HttpResponse> response = new CompletableFuture<>();
        req.aggregate().handle((body, failure) -> {
            if (failure != null) {
                response.completeExceptionally(failure); // e.g. too large: as Armeria's transcoding fails it
            } else if (body.content().isEmpty()) {
                passOn(delegate, ctx, body, response);
            } else {
                ctx.blockingTaskExecutor().execute(() -> {
                    Message request;
                    try {
                        request = (Message) json.deserializeMessage(method.getMethodDescriptor().getRequestMarshaller(),
                                new ByteArrayInputStream(body.content().array()));
                    } catch (Exception | LinkageError e) {
                        passOn(delegate, ctx, body, response);
                        return;
                    }
                    name(ctx, method);
                    call(ctx, method, route, request, response);
                });
            }
            return null;
        });
        return HttpResponse.of(response);
    }

    /** Hands a request already read to Armeria's transcoding, on the event loop where it would have run. */
    private static void passOn(HttpService delegate, ServiceRequestContext ctx, AggregatedHttpRequest body,
                               CompletableFuture<HttpResponse> response) {
        ctx.eventLoop().execute(() -> {
            try {
                response.complete(delegate.serve(ctx, body.toHttpRequest()));
            } catch (Exception e) {
                response.completeExceptionally(e);
            }
        });
    }

    private static void name(ServiceRequestContext ctx, ServerMethodDefinition<?, ?> method) {
        MethodDescriptor<?, ?> md = method.getMethodDescriptor();
        ctx.logBuilder().name(md.getServiceName(), md.getBareMethodName());
    }

    /**
     * Runs one call. A unary method may answer later from another thread (a create answers once the store
     * has recorded it): the response completes when the call closes, whichever thread closes it.
     */
    @SuppressWarnings("unchecked")
    private <Q, R> void call(ServiceRequestContext ctx, ServerMethodDefinition<Q, R> method, TranscodingRoute route,
                             Message request, CompletableFuture<HttpResponse> response) {
        Call<Q, R> call = new Call<>(ctx, method.getMethodDescriptor(), route, response);
        try {
            ServerCall.Listener<Q> listener = method.getServerCallHandler().startCall(call, new Metadata());
            call.listener = listener;
            // As Armeria's framed call: a request cancelled (timed out, or its client gone) closes the call
            // with what the exception handler makes of the cause.
            ctx.whenRequestCancelling().handle((cause, unused) -> {
                call.fail(cause);
                return null;
            });
            try {
                listener.onMessage((Q) request);
                listener.onHalfClose();
            } catch (Throwable t) {
                call.fail(t);
            }
        } catch (Throwable t) {
            call.fail(t);
        }
    }

    /**
     * One call: what the service answers becomes the HTTP response. Touched by one thread at a time: the
     * one that runs the method, then the one that answers (the same one, or the store's for a create).
     */
    private final class Call<Q, R> extends ServerCall<Q, R> {
        private final ServiceRequestContext ctx;
        private final MethodDescriptor<Q, R> method;
        private final TranscodingRoute route;
        private final CompletableFuture<HttpResponse> response;
        private volatile R message;
        /** Told the call is complete once it closed with an answer. */
        volatile ServerCall.Listener<Q> listener;

        Call(ServiceRequestContext ctx, MethodDescriptor<Q, R> method, TranscodingRoute route,
             CompletableFuture<HttpResponse> response) {
            this.ctx = ctx;
            this.method = method;
            this.route = route;
            this.response = response;
        }

        @Override
        public void request(int numMessages) {
        }

        @Override
        public void sendHeaders(Metadata headers) {
        }

        @Override
        public void sendMessage(R message) {
            this.message = message;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public boolean isCancelled() {
            return ctx.isCancelled();
        }

        @Override
        public Attributes getAttributes() {
            return Attributes.EMPTY;
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return method;
        }

        /** As Armeria's call closes with a status the service gave (a cause goes through the exception handler). */
        @Override
        public void close(Status status, Metadata trailers) {
            if (response.isDone()) {
                return;
            }
            Throwable cause = status.getCause();
            if (cause != null) {
                Status handled = handle(status, Exceptions.peel(cause), trailers);
                status = status.getDescription() != null ? handled.withDescription(status.getDescription()) : handled;
            }
            if (status.isOk() && message != null) {
                response.complete(ok(message));
                ServerCall.Listener<Q> l = listener;
                if (l != null) {
                    l.onComplete();
                }
            } else if (status.isOk()) {
                response.complete(error(Status.CANCELLED.withDescription("Completed without a response"), trailers));
            } else {
                response.complete(error(status, trailers));
            }
        }

        /** As Armeria's call closes when the service threw. */
        void fail(Throwable thrown) {
            if (response.isDone()) {
                return;
            }
            Throwable t = Exceptions.peel(thrown);
            Metadata trailers = Status.trailersFromThrowable(t);
            if (trailers == null) {
                trailers = new Metadata();
            }
            Status status = handle(Status.fromThrowable(t), t, trailers);
            response.complete(error(status, trailers));
        }

        private Status handle(Status status, Throwable cause, Metadata trailers) {
            if (status.getCode() == Status.Code.UNKNOWN) {
                Status inner = cause instanceof StatusRuntimeException e ? e.getStatus()
                        : cause instanceof StatusException e ? e.getStatus() : null;
                if (inner != null && inner.getCode() != Status.Code.UNKNOWN) {
                    status = inner;
                }
            }
            return exceptions.apply(ctx, status, cause, trailers);
        }

        private HttpResponse ok(R answer) {
            // Sized like the method's last answer: a 75 KB list page written into a buffer that doubles from
            // 256 bytes would be copied nine times on the way.
            ByteBuf buf = ctx.alloc().buffer(route.sizeHint);
            try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
                json.serializeMessage(method.getResponseMarshaller(), answer, out);
            } catch (Throwable t) {
                buf.release();
                return error(Status.INTERNAL.withDescription("Failed to write the response").withCause(t), new Metadata());
            }
            route.sizeHint = Math.max(256, buf.readableBytes() + 64);
            return HttpResponse.of(OK_HEADERS, HttpData.wrap(buf));
        }

        private HttpResponse error(Status status, Metadata trailers) {
            try {
                return errors.handle(ctx, status, AggregatedHttpResponse.of(ResponseHeaders.of(HttpStatus.OK),
                        HttpData.empty(), headers(trailers)));
            } catch (Exception e) {
                return HttpResponse.ofFailure(e);
            }
        }
    }

    /** The ASCII trailers of a call (e.g. {@code retry-after}) as HTTP headers. */
    private static HttpHeaders headers(Metadata trailers) {
        HttpHeadersBuilder out = HttpHeaders.builder();
        for (String key : trailers.keys()) {
            if (!key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                Iterable<String> values = trailers.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
                if (values != null) {
                    values.forEach(v -> out.add(key, v));
                }
            }
        }
        return out.build();
    }
}
