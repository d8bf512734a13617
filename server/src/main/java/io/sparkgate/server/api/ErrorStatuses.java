package io.sparkgate.server.api;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;
import io.sparkgate.server.values.AccessDeniedException;
import io.sparkgate.server.values.AdmissionLimitException;
import io.sparkgate.server.values.BatchConflictException;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.DomainException;
import io.sparkgate.server.values.InvalidBatchRequestException;
import java.util.Map;

/**
 * The one table from the domain's refusals to wire statuses. Each {@link DomainException} has a gRPC
 * code here; its HTTP status follows from that code by {@link #http}, the same mapping that turns the
 * status of a transcoded call into Livy's HTTP error, so REST, SSE and gRPC can never disagree.
 */
final class ErrorStatuses {

    /** Exact classes: the cases are final and closed ({@code sealed}), so nothing falls through to a guess. */
    static final Map<Class<? extends DomainException>, Status.Code> CODES = Map.of(
            BatchNotFoundException.class, Status.Code.NOT_FOUND,
            InvalidBatchRequestException.class, Status.Code.INVALID_ARGUMENT,
            BatchConflictException.class, Status.Code.ALREADY_EXISTS,
            AccessDeniedException.class, Status.Code.PERMISSION_DENIED,
            AdmissionLimitException.class, Status.Code.RESOURCE_EXHAUSTED);

    private ErrorStatuses() {}

    static Status.Code code(DomainException e) {
        return requireNonNull(CODES.get(e.getClass()), () -> "no status for " + e.getClass());
    }

    static HttpStatus http(DomainException e) {
        return http(code(e));
    }

    /** gRPC code → Livy's HTTP status (DESIGN.md's error list). */
    static HttpStatus http(Status.Code code) {
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
}
