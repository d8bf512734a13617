package io.sparkgate.server.logs;

/** Told that a batch's log has grown to {@code total} lines. Called on the indexing thread: must not block. */
@FunctionalInterface
public interface LogListener {
    void linesAdded(int batchId, long total);
}
