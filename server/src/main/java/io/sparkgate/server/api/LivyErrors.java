package io.sparkgate.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.grpc.UnframedGrpcErrorHandler;
import io.grpc.Metadata;
import io.grpc.Status;
import io.sparkgate.server.values.DomainException;
import java.util.Map;

/**
 * Errors, the same way on both faces: domain exceptions become gRPC statuses with a useful
 * description, and on REST every error, including those raised before the gRPC layer (malformed
 * JSON, unknown path, wrong method), is Livy's {@code {"msg": "..."}} with a JSON content type.
 */
final class LivyErrors {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final Metadata.Key<String> RETRY_AFTER =
            Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);

    private LivyErrors() {}

    /** Domain exceptions → gRPC status by {@link ErrorStatuses}; for gRPC and transcoded calls alike. */
    static GrpcExceptionHandlerFunction grpcExceptionHandler() {
        return (RequestContext ctx, Status status, Throwable cause, Metadata metadata) -> {
            if (cause instanceof DomainException e) {
                e.retryAfter().ifPresent(d -> metadata.put(RETRY_AFTER, retryAfterSeconds(d)));
                return Status.fromCode(ErrorStatuses.code(e)).withDescription(e.getMessage());
            }
            if (cause instanceof InvalidProtocolBufferException e) {
                // A JSON or protobuf body that does not parse into the request message.
                return Status.INVALID_ARGUMENT.withDescription("Bad request: " + e.getMessage());
            }
            return malformedCall(ctx, status, cause);
        };
    }

    /**
     * A call that failed before its request became a message is the client's fault: bytes that are no
     * gRPC frame, a frame that is no protobuf message, a truncated frame, bad grpc-web-text base64, no
     * message at all. gRPC's runtime reports these as INTERNAL or UNKNOWN, which tells a client the server
     * is broken; they are INVALID_ARGUMENT with what the runtime found. Once the message was read
     * ({@link MalformedCallInterceptor#REQUEST_READ}), an INTERNAL is a real server fault and stays one.
     */
    static @Nullable Status malformedCall(@Nullable RequestContext ctx, Status status, @Nullable Throwable cause) {
        if (status.getCode() != Status.Code.INTERNAL && status.getCode() != Status.Code.UNKNOWN) {
            return null;
        }
        if (ctx == null || Boolean.TRUE.equals(ctx.attr(MalformedCallInterceptor.REQUEST_READ))) {
            return null;
        }
        Throwable root = cause != null ? cause : status.getCause();
        while (root != null && root.getCause() != null) {
            root = root.getCause();
        }
        String what = status.getDescription() != null ? status.getDescription()
                      : root != null && root.getMessage() != null ? root.getMessage()
                      : "the request is no complete gRPC message";
        return Status.INVALID_ARGUMENT.withDescription("Malformed gRPC request: " + what);
    }

    /** gRPC status of a transcoded call → Livy's HTTP error. */
    static UnframedGrpcErrorHandler transcodingErrorHandler() {
        return (ServiceRequestContext ctx, Status status, AggregatedHttpResponse response) -> {
            HttpStatus http = ErrorStatuses.http(status.getCode());
            String description = status.getDescription() != null ? status.getDescription()
                                                                  : status.getCode().name();
            ResponseHeadersBuilder headers = ResponseHeaders.builder(http).contentType(MediaType.JSON_UTF_8);
            if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                String retryAfter = response.trailers().get("retry-after");
                if (retryAfter == null) {
                    retryAfter = response.headers().get("retry-after");
                }
                headers.set(HttpHeaderNames.RETRY_AFTER, retryAfter != null ? retryAfter : "5");
            }
            return HttpResponse.of(headers.build(), HttpData.ofUtf8(msg(description)));
        };
    }

    /** Errors raised before any service runs: unknown path, wrong method, bad path variable, too large. */
    static ServerErrorHandler serverErrorHandler() {
        return new ServerErrorHandler() {
            @Override
            public @Nullable HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
                // Services of our own beside the transcoded ones (the SSE routes) throw domain exceptions.
                if (!(cause instanceof DomainException e)) {
                    return null;
                }
                ResponseHeadersBuilder headers = ResponseHeaders.builder(ErrorStatuses.http(e))
                        .contentType(MediaType.JSON_UTF_8);
                e.retryAfter().ifPresent(d -> headers.set(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds(d)));
                return HttpResponse.of(headers.build(), HttpData.ofUtf8(msg(e.getMessage())));
            }

            @Override
            public @Nullable AggregatedHttpResponse renderStatus(@Nullable ServiceRequestContext ctx,
                                                                 ServiceConfig config,
                                                                 @Nullable RequestHeaders headers,
                                                                 HttpStatus status,
                                                                 @Nullable String description,
                                                                 @Nullable Throwable cause) {
                if (status == HttpStatus.REQUEST_ENTITY_TOO_LARGE && headers != null && LivyCreatedStatus.isGrpc(headers.contentType())) {
                    // Refused on its Content-Length, before the gRPC service: still a gRPC answer
                    // (trailers-only), or the client sees UNKNOWN instead of RESOURCE_EXHAUSTED.
                    return AggregatedHttpResponse.of(ResponseHeaders.builder(HttpStatus.OK)
                            .contentType(headers.contentType())
                            .add("grpc-status", Integer.toString(Status.Code.RESOURCE_EXHAUSTED.value()))
                            .add("grpc-message", "request larger than the server's limit of "
                                    + config.maxRequestLength() + " bytes")
                            .build());
                }
                String text = description;
                if (text == null || text.isBlank()) {
                    text = status.reasonPhrase();
                    if (headers != null && status == HttpStatus.NOT_FOUND) {
                        text = "Not found: " + headers.method() + " " + headers.path();
                    } else if (headers != null && status == HttpStatus.METHOD_NOT_ALLOWED) {
                        text = "Method " + headers.method() + " not allowed on " + headers.path();
                    }
                }
                return AggregatedHttpResponse.of(status, MediaType.JSON_UTF_8, msg(text));
            }
        };
    }


    private static String retryAfterSeconds(java.time.Duration d) {
        return Long.toString(Math.max(1, d.toSeconds()));
    }

    static String msg(String text) {
        try {
            return MAPPER.writeValueAsString(Map.of("msg", text));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
