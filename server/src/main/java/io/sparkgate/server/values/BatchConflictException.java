package io.sparkgate.server.values;

/** A request conflicts with what is recorded, e.g. a request id reused for a different request (409). */
public final class BatchConflictException extends DomainException {
    public BatchConflictException(String message) {
        super(message);
    }
}
