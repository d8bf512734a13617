package io.sparkgate.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;
import io.sparkgate.server.values.AccessDeniedException;
import io.sparkgate.server.values.AdmissionLimitException;
import io.sparkgate.server.values.BatchConflictException;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.DomainException;
import io.sparkgate.server.values.InvalidBatchRequestException;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A client author reads one table: every refusal of the domain has its gRPC status and its Livy HTTP status. */
class ErrorStatusesTest {

    @Test
    void everyKindOfRefusalHasAStatus() {
        assertThat(java.util.Set.<Class<?>>copyOf(ErrorStatuses.CODES.keySet()))
                .containsExactlyInAnyOrderElementsOf(Arrays.asList(DomainException.class.getPermittedSubclasses()));
    }

    @Test
    void eachRefusalGetsTheStatusTheApiDocumentationPromises() {
        assertThat(statuses(new BatchNotFoundException(7))).isEqualTo("NOT_FOUND 404");
        assertThat(statuses(new InvalidBatchRequestException("bad"))).isEqualTo("INVALID_ARGUMENT 400");
        assertThat(statuses(new BatchConflictException("taken"))).isEqualTo("ALREADY_EXISTS 409");
        assertThat(statuses(new AccessDeniedException("not yours"))).isEqualTo("PERMISSION_DENIED 403");
        assertThat(statuses(new AdmissionLimitException("full", Duration.ofSeconds(3))))
                .isEqualTo("RESOURCE_EXHAUSTED 429");
    }

    private static String statuses(DomainException e) {
        Status.Code code = ErrorStatuses.code(e);
        HttpStatus http = ErrorStatuses.http(e);
        return code + " " + http.code();
    }
}
