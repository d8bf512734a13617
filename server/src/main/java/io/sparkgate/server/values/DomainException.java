package io.sparkgate.server.values;

import java.time.Duration;
import java.util.Optional;

/**
 * A request the domain refuses for a reason the caller can act on. The closed set of cases lets the
 * protocol adapters map each to its status in one table ({@code api/ErrorStatuses}), instead of guessing
 * from messages: a new case is added here and there, and the compiler and that table's test say where.
 * The message is shown to the caller as it is.
 */
public abstract sealed class DomainException extends RuntimeException
        permits AccessDeniedException, AdmissionLimitException, BatchConflictException,
                BatchNotFoundException, InvalidBatchRequestException {

    protected DomainException(String message) {
        super(message);
    }

    /** How long the caller should wait before trying again, when waiting helps. */
    public Optional<Duration> retryAfter() {
        return Optional.empty();
    }
}
