package io.sparkgate.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Any failed call: carries the gRPC status (code and the server's description). */
public final class SparkgateException extends RuntimeException {
    private final Status status;

    /** A failed call with its status. */
    public SparkgateException(StatusRuntimeException cause) {
        super(cause.getStatus().getCode() + ": " + cause.getStatus().getDescription(), cause);
        this.status = cause.getStatus();
    }

    /** The gRPC status of the failed call, e.g. NOT_FOUND for an unknown batch. */
    public Status status() {
        return status;
    }
}
