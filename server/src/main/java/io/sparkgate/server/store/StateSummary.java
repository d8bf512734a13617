package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.values.BatchState;
import java.time.Instant;

/**
 * How many batches are in one state now, and when the oldest of them was created.
 *
 * @param oldestCreated creation time of the oldest batch in the state (for {@code not_started}: the
 *                      longest wait, since a batch waits from its creation)
 */
public record StateSummary(BatchState state, long count, Instant oldestCreated) {

    public StateSummary {
        requireNonNull(state, "state");
        requireNonNull(oldestCreated, "oldestCreated");
    }
}
