package io.sparkgate.server.batch;

/** A request that cannot be run as asked; the message says which field and why. */
public final class InvalidBatchRequestException extends RuntimeException {
    public InvalidBatchRequestException(String message) {
        super(message);
    }
}
