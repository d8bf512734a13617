package io.sparkgate.server.store;

/** A batch with the same client request id is already recorded. */
public final class RequestIdTakenException extends RuntimeException {
    public RequestIdTakenException(String requestId, Throwable cause) {
        super("a batch with request id '" + requestId + "' already exists", cause);
    }
}
