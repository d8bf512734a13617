package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.values.Batch;
import java.util.List;
import java.util.Optional;

/**
 * A batch as read from the store, with the last lines of its log when they were recorded
 * ({@link BatchStore#saveLogTail}): empty when not, and then the log file is the only source.
 */
public record StoredBatch(Batch batch, Optional<List<String>> logTail) {
    public StoredBatch {
        requireNonNull(batch, "batch");
        logTail = logTail.map(List::copyOf);
    }
}
