package io.sparkgate.server.batch;

import java.time.Duration;

/** Too many batches wait to launch; the client should retry after {@link #retryAfter()}. */
public final class AdmissionLimitException extends RuntimeException {
    private final Duration retryAfter;

    public AdmissionLimitException(String message, Duration retryAfter) {
        super(message);
        this.retryAfter = retryAfter;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
