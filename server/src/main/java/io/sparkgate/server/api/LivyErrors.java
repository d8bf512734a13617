package io.sparkgate.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.common.stream.ClosedStreamException;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.grpc.UnframedGrpcErrorHandler;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.sparkgate.server.batch.AdmissionLimitException;
import io.sparkgate.server.batch.BatchConflictException;
import io.sparkgate.server.batch.BatchNotFoundException;
import io.sparkgate.server.batch.InvalidBatchRequestException;
import io.sparkgate.server.security.AccessDeniedException;
import java.util.Map;
import com.linecorp.armeria.common.annotation.Nullable;

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

    /** Domain exceptions → gRPC status; for gRPC and transcoded calls alike. */
    static GrpcExceptionHandlerFunction grpcExceptionHandler() {
        return (RequestContext ctx, Status status, Throwable cause, Metadata metadata) -> {
            if (cause instanceof BatchNotFoundException e) {
                return Status.NOT_FOUND.withDescription(e.getMessage());
            }
            if (cause instanceof InvalidBatchRequestException e) {
                return Status.INVALID_ARGUMENT.withDescription(e.getMessage());
            }
            if (cause instanceof BatchConflictException e) {
                return Status.ALREADY_EXISTS.withDescription(e.getMessage());
            }
            if (cause instanceof AccessDeniedException e) {
                return Status.PERMISSION_DENIED.withDescription(e.getMessage());
            }
            if (cause instanceof AdmissionLimitException e) {
                metadata.put(RETRY_AFTER, Long.toString(Math.max(1, e.retryAfter().toSeconds())));
                return Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage());
            }
            if (cause instanceof InvalidProtocolBufferException e) {
                return Status.INVALID_ARGUMENT.withDescription("Bad request: " + e.getMessage());
            }
            return malformedCall(status, cause);
        };
    }

    /**
     * A call whose request bytes are no message: gRPC's own runtime reports these as INTERNAL or UNKNOWN
     * (a bad frame header, a body that does not parse, a truncated frame, bad grpc-web-text base64, no
     * message at all), which tells a client the server is broken. They are the client's fault: INVALID_ARGUMENT
     * with what was wrong. Anything else stays as it was, so a real server fault is still INTERNAL.
     */
    static @Nullable Status malformedCall(Status status, @Nullable Throwable cause) {
        if (status.getCode() != Status.Code.INTERNAL && status.getCode() != Status.Code.UNKNOWN) {
            return null;
        }
        String description = status.getDescription() == null ? "" : status.getDescription();
        if (description.startsWith(DEFRAMER) || description.startsWith("Half-closed without a request")) {
            return Status.INVALID_ARGUMENT.withDescription("Malformed gRPC request: "
                    + description.replace(DEFRAMER + ": ", ""));
        }
        for (Throwable t = cause != null ? cause : status.getCause(); t != null; t = t.getCause()) {
            if (t instanceof InvalidProtocolBufferException e) {
                return Status.INVALID_ARGUMENT.withDescription("Malformed gRPC request: " + e.getMessage());
            }
            if (t instanceof io.grpc.StatusRuntimeException e && e.getStatus().getDescription() != null
                && e.getStatus().getDescription().startsWith(DEFRAMER)) {
                return malformedCall(e.getStatus(), null);
            }
            if (t instanceof ClosedStreamException) {
                return Status.CANCELLED.withDescription("The request stream closed before a whole message arrived");
            }
            if (t instanceof IllegalArgumentException && String.valueOf(t.getMessage()).contains("Base64")) {
                return Status.INVALID_ARGUMENT.withDescription("Malformed gRPC-Web text request: " + t.getMessage());
            }
            if (t instanceof IndexOutOfBoundsException && thrownWhileReadingFrames(t)) {
                return Status.INVALID_ARGUMENT.withDescription(
                        "Malformed gRPC request: a frame declares more bytes than the request has");
            }
        }
        return null;
    }

    private static final String DEFRAMER = "com.linecorp.armeria.common.grpc.protocol.ArmeriaMessageDeframer";

    /** True when {@code t} comes from cutting the request body into gRPC frames, not from our own code. */
    private static boolean thrownWhileReadingFrames(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("io.sparkgate.")) {
                return false;
            }
            if (e.getClassName().contains("Deframer") || e.getClassName().contains("grpc.protocol")) {
                return true;
            }
        }
        return false;
    }

    /** gRPC status of a transcoded call → Livy's HTTP error. */
    static UnframedGrpcErrorHandler transcodingErrorHandler() {
        return (ServiceRequestContext ctx, Status status, AggregatedHttpResponse response) -> {
            HttpStatus http = httpStatus(status.getCode());
            String description = status.getDescription() != null ? status.getDescription()
                                                                  : status.getCode().name();
            com.linecorp.armeria.common.ResponseHeadersBuilder headers = ResponseHeaders.builder(http).contentType(MediaType.JSON_UTF_8);
            if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                String retryAfter = response.trailers().get("retry-after");
                if (retryAfter == null) {
                    retryAfter = response.headers().get("retry-after");
                }
                headers.set(HttpHeaderNames.RETRY_AFTER, retryAfter != null ? retryAfter : "5");
            }
            return HttpResponse.of(headers.build(), com.linecorp.armeria.common.HttpData.ofUtf8(msg(description)));
        };
    }

    /** Errors raised before any service runs: unknown path, wrong method, bad path variable, too large. */
    static ServerErrorHandler serverErrorHandler() {
        return new ServerErrorHandler() {
            @Override
            public @Nullable HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
                // Services of our own beside the transcoded ones (the SSE routes) throw domain exceptions.
                HttpStatus status;
                if (cause instanceof BatchNotFoundException) {
                    status = HttpStatus.NOT_FOUND;
                } else if (cause instanceof InvalidBatchRequestException) {
                    status = HttpStatus.BAD_REQUEST;
                } else if (cause instanceof AccessDeniedException) {
                    status = HttpStatus.FORBIDDEN;
                } else {
                    return null;
                }
                return HttpResponse.of(status, MediaType.JSON_UTF_8, msg(cause.getMessage()));
            }

            @Override
            public @Nullable AggregatedHttpResponse renderStatus(@Nullable ServiceRequestContext ctx,
                                                                 ServiceConfig config,
                                                                 @Nullable RequestHeaders headers,
                                                                 HttpStatus status,
                                                                 @Nullable String description,
                                                                 @Nullable Throwable cause) {
                if (status == HttpStatus.REQUEST_ENTITY_TOO_LARGE && isGrpc(headers)) {
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

    private static boolean isGrpc(@Nullable RequestHeaders headers) {
        MediaType type = headers == null ? null : headers.contentType();
        return type != null && type.type().equals("application") && type.subtype().startsWith("grpc");
    }

    static HttpStatus httpStatus(Status.Code code) {
        return switch (code) {
            case OK -> HttpStatus.OK;
            case INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION -> HttpStatus.BAD_REQUEST;
            case UNAUTHENTICATED -> HttpStatus.UNAUTHORIZED;
            case PERMISSION_DENIED -> HttpStatus.FORBIDDEN;
            case NOT_FOUND -> HttpStatus.NOT_FOUND;
            case ALREADY_EXISTS, ABORTED -> HttpStatus.CONFLICT;
            case RESOURCE_EXHAUSTED -> HttpStatus.TOO_MANY_REQUESTS;
            case UNIMPLEMENTED -> HttpStatus.NOT_IMPLEMENTED;
            case UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
            case DEADLINE_EXCEEDED -> HttpStatus.GATEWAY_TIMEOUT;
            case CANCELLED -> HttpStatus.valueOf(499);
            default -> HttpStatus.INTERNAL_SERVER_ERROR;
        };
    }

    static String msg(String text) {
        try {
            return MAPPER.writeValueAsString(Map.of("msg", text));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
