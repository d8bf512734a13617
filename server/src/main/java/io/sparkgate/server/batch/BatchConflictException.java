package io.sparkgate.server.batch;

/** A request conflicts with what is recorded, e.g. a request id reused for a different request (409). */
public final class BatchConflictException extends RuntimeException {
    public BatchConflictException(String message) {
        super(message);
    }
}
