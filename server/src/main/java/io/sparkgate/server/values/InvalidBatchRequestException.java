package io.sparkgate.server.values;

/** A request that cannot be run as asked; the message says which field and why. */
public final class InvalidBatchRequestException extends DomainException {
    public InvalidBatchRequestException(String message) {
        super(message);
    }
}
