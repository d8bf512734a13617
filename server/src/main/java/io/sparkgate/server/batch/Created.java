package io.sparkgate.server.batch;

import io.sparkgate.server.values.Batch;

import static java.util.Objects.requireNonNull;

/**
 * The answer to a create: the batch, and whether it existed already (an idempotent repeat of an
 * earlier create with the same request id) rather than being recorded now.
 */
public record Created(Batch batch, boolean replayed) {
    public Created {
        requireNonNull(batch, "batch");
    }
}
