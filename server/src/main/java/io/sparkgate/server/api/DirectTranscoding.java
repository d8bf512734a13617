package io.sparkgate.server.api;

import static java.util.Objects.requireNonNull;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
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
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP/JSON transcoding of the unary {@code GET} routes (a batch, its state, the list, a log page)
 * without a gRPC wire in the middle. Armeria's transcoding turns such a request into JSON, frames it,
 * runs a whole framed gRPC call over it and unframes the answer again; on the REST face that round
 * trip cost more than the work (a JFR profile of {@code GET /batches?size=100}: a third of the server's
 * CPU in framing, deframing, stream plumbing and the request's own JSON, for 2-4 µs of the service's
 * work per batch). Here, on the transcoding service's own routes (the proto's {@code google.api.http}
 * rules), the request message is built as Armeria's transcoding builds it (path variables by proto field
 * name, query parameters by proto or lowerCamel name, unknown ones ignored, the last of a repeated one
 * winning), the method runs through its own gRPC call handler (the same service, interceptors, blocking
 * executor and exception handler as every gRPC call) and its answer is written by the same
 * {@link LivyJsonMarshaller} with the same headers; errors go through the same
 * {@link UnframedGrpcErrorHandler}. So a client sees byte for byte what Armeria's transcoding answers.
 *
 * <p>What it cannot build exactly as Armeria would (another method or verb, a value that does not parse,
 * a repeated or message field) goes on to Armeria's transcoding unchanged, whose errors stay the only
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
    /** Per method of the service: how to build its request, or {@link Route#NONE} when not served here. */
    private final Map<ServerMethodDefinition<?, ?>, Route> routes = new ConcurrentHashMap<>();

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
        if (req.method() != HttpMethod.GET) {
            return delegate.serve(ctx, req);
        }
        GrpcService grpc = delegate.as(GrpcService.class);
        ServerMethodDefinition<?, ?> method = grpc == null ? null : grpc.methodDefinition(ctx);
        if (method == null) {
            return delegate.serve(ctx, req);
        }
        Route route = routes.computeIfAbsent(method, Route::of);
        Message request = route.request(ctx);
        if (request == null) {
            return delegate.serve(ctx, req);
        }
        MethodDescriptor<?, ?> md = method.getMethodDescriptor();
        ctx.logBuilder().name(md.getServiceName(), md.getBareMethodName());
        CompletableFuture<HttpResponse> response = new CompletableFuture<>();
        ctx.blockingTaskExecutor().execute(() -> call(ctx, method, route, request, response));
        return HttpResponse.of(response);
    }

    @SuppressWarnings("unchecked")
    private <Q, R> void call(ServiceRequestContext ctx, ServerMethodDefinition<Q, R> method, Route route,
                             Message request, CompletableFuture<HttpResponse> response) {
        Call<Q, R> call = new Call<>(ctx, method.getMethodDescriptor(), route, response);
        try {
            ServerCall.Listener<Q> listener = method.getServerCallHandler().startCall(call, new Metadata());
            try {
                listener.onMessage((Q) request);
                listener.onHalfClose();
            } catch (Throwable t) {
                call.fail(t);
            }
            if (call.closedOk) {
                listener.onComplete();
            }
        } catch (Throwable t) {
            call.fail(t);
        }
        if (!response.isDone()) {
            call.close(Status.INTERNAL.withDescription("Completed without a response"), new Metadata());
        }
    }

    /** One call: what the service answers becomes the HTTP response. Touched by the one thread running it. */
    private final class Call<Q, R> extends ServerCall<Q, R> {
        private final ServiceRequestContext ctx;
        private final MethodDescriptor<Q, R> method;
        private final Route route;
        private final CompletableFuture<HttpResponse> response;
        private R message;
        boolean closedOk;

        Call(ServiceRequestContext ctx, MethodDescriptor<Q, R> method, Route route,
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
                closedOk = true;
                response.complete(ok(message));
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

    /** How one method's request is built from a {@code GET}: its fields by proto name and by lowerCamel name. */
    private static final class Route {
        static final Route NONE = new Route(null, Map.of());

        private final Message prototype;
        private final Map<String, FieldDescriptor> fields;
        /** Bytes to allocate for an answer; racy by design (any recent answer's size will do). */
        volatile int sizeHint = 256;

        private Route(Message prototype, Map<String, FieldDescriptor> fields) {
            this.prototype = prototype;
            this.fields = fields;
        }

        static Route of(ServerMethodDefinition<?, ?> method) {
            MethodDescriptor<?, ?> md = method.getMethodDescriptor();
            if (md.getType() != MethodDescriptor.MethodType.UNARY
                || !(md.getSchemaDescriptor() instanceof ProtoMethodDescriptorSupplier schema)
                || !(md.getRequestMarshaller() instanceof PrototypeMarshaller<?> requests)
                || !(requests.getMessagePrototype() instanceof Message prototype)) {
                return NONE;
            }
            HttpRule rule = schema.getMethodDescriptor().getOptions().getExtension(AnnotationsProto.http);
            if (rule.getPatternCase() != HttpRule.PatternCase.GET || rule.getAdditionalBindingsCount() > 0) {
                return NONE;
            }
            Descriptor type = prototype.getDescriptorForType();
            Map<String, FieldDescriptor> fields = new HashMap<>();
            for (FieldDescriptor f : type.getFields()) {
                boolean scalar = !f.isRepeated() && (f.getType() == FieldDescriptor.Type.INT32
                                                     || f.getType() == FieldDescriptor.Type.STRING);
                fields.put(f.getName(), scalar ? f : null);
                fields.putIfAbsent(lowerCamel(f.getName()), scalar ? f : null);
            }
            return new Route(prototype, fields);
        }

        /** The request, or null when Armeria's transcoding must build it (or refuse it). */
        Message request(ServiceRequestContext ctx) {
            if (prototype == null) {
                return null;
            }
            Message.Builder b = prototype.newBuilderForType();
            for (Map.Entry<String, String> p : ctx.pathParams().entrySet()) {
                if (!set(b, p.getKey(), p.getValue())) {
                    return null;
                }
            }
            for (Map.Entry<String, String> q : ctx.queryParams()) {
                if (!set(b, q.getKey(), q.getValue())) {
                    return null;
                }
            }
            return b.build();
        }

        /** Sets one parameter as Armeria's transcoding would; false when it should do it itself. */
        private boolean set(Message.Builder b, String name, String value) {
            if (!fields.containsKey(name)) {
                return true; // unknown parameters are ignored
            }
            FieldDescriptor f = fields.get(name);
            if (f == null) {
                return false;
            }
            if (f.getType() == FieldDescriptor.Type.STRING) {
                b.setField(f, value);
                return true;
            }
            try {
                b.setField(f, Integer.parseInt(value));
                return true;
            } catch (NumberFormatException e) {
                return false;
            }
        }

        private static String lowerCamel(String name) {
            StringBuilder out = new StringBuilder(name.length());
            boolean up = false;
            for (char c : name.toCharArray()) {
                if (c == '_') {
                    up = true;
                } else {
                    out.append(up ? Character.toUpperCase(c) : c);
                    up = false;
                }
            }
            return out.toString();
        }
    }
}
