package io.sparkgate.server.values;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/** One state a batch entered, when, and why (in words a user can act on). */
public record StateChange(BatchState state, Instant time, String reason) {
    public StateChange {
        requireNonNull(state, "state");
        requireNonNull(time, "time");
        requireNonNull(reason, "reason");
    }
}
