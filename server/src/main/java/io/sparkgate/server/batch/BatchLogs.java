package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.logs.LogPage;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.store.LogChunks;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.function.IntToLongFunction;

/**
 * Where a batch's log lines are read from: this server's own files when it holds the batch (or has no
 * replicas), else the database's copy that the holder keeps ({@link LogShipper}). Both number lines
 * the same, so a reader may move between replicas at any offset.
 *
 * <p>{@link #shared} is set once, before serving; reads come from any thread.
 */
final class BatchLogs {

    private final LogStore files;
    /** Whether this server holds the batch (its own files are then the newest). */
    private final IntPredicate heldHere;
    private volatile LogChunks shared;
    /** Replicas: how many lines of a batch held here are in the database (see {@link LogShipper#shipped}). */
    private volatile IntToLongFunction shipped = id -> Long.MAX_VALUE;

    BatchLogs(LogStore files, IntPredicate heldHere) {
        this.files = requireNonNull(files, "files");
        this.heldHere = requireNonNull(heldHere, "heldHere");
    }

    /**
     * Replicas: batches held elsewhere are read from {@code chunks} from now on, and those held here up
     * to the lines {@code shipped} says are in the database: a reader that moves to another replica,
     * because this one died, finds every line it saw there under the same offset.
     */
    void share(LogChunks chunks, IntToLongFunction shipped) {
        this.shipped = requireNonNull(shipped, "shipped");
        this.shared = requireNonNull(chunks, "chunks");
    }

    /** Whether this server's own files are where the batch's log is read. */
    boolean local(int batchId) {
        return shared == null || heldHere.test(batchId);
    }

    long total(int batchId) {
        LogChunks chunks = shared;
        if (chunks == null) {
            return files.total(batchId);
        }
        if (heldHere.test(batchId)) {
            return Math.min(files.total(batchId), shipped.applyAsLong(batchId));
        }
        long copied = chunks.total(batchId);
        return copied == 0 ? files.total(batchId) : copied; // as read() falls back
    }

    /** As {@link LogStore#read}. */
    LogPage read(int batchId, long from, long size) {
        LogChunks chunks = shared;
        if (chunks == null) {
            return files.read(batchId, from, size);
        }
        if (heldHere.test(batchId)) {
            long shown = shipped.applyAsLong(batchId);
            if (shown == Long.MAX_VALUE) {
                return files.read(batchId, from, size);
            }
            long upTo = Math.max(from, size < 0 ? shown : Math.min(shown, from + size));
            LogPage page = files.read(batchId, from, upTo - from);
            return new LogPage(from, Math.min(page.total(), shown), page.lines());
        }
        LogChunks.Page page = chunks.read(batchId, from, size);
        if (page.total() == 0 && files.total(batchId) > 0) {
            // Ran here before the database kept copies, or ended here before any line was copied.
            return files.read(batchId, from, size);
        }
        return new LogPage(from, page.total(), page.lines());
    }

    List<String> tail(int batchId, int n) {
        long total = total(batchId);
        return read(batchId, Math.max(0, total - n), n).lines();
    }
}
