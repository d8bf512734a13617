package io.sparkgate.server.values;

import java.time.Duration;
import java.util.Optional;

/** Too many batches wait to launch; the client should retry after {@link #retryAfter()}. */
public final class AdmissionLimitException extends DomainException {
    private final Duration retryAfter;

    public AdmissionLimitException(String message, Duration retryAfter) {
        super(message);
        this.retryAfter = retryAfter;
    }

    @Override
    public Optional<Duration> retryAfter() {
        return Optional.of(retryAfter);
    }
}
