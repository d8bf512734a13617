package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.logs.LogPage;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.store.Lease;
import io.sparkgate.server.store.LeaseLostException;
import io.sparkgate.server.store.LogChunks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicas: keeps the database's copy of the logs of the batches this server holds ({@link LogChunks}),
 * so that any replica serves every line under the same offset, and starts the log of a batch taken
 * over with the lines the previous holder had copied.
 *
 * <p>New lines are copied a chunk per batch at each {@link #tick} (every {@link #INTERVAL_MILLIS} ms,
 * what a follower on another replica waits at most, plus its own poll), and all of them before a
 * batch's final write ({@link #ship}), so that a final state seen anywhere means a complete log. Each
 * copy is fenced by the batch's lease: a replica that lost a batch cannot interleave lines with the
 * new holder's.
 *
 * <p>Threads: the log indexer's listener only marks batches; copies run on the replicas' scheduled
 * thread ({@link #tick}) and on a batch's owner executor ({@link #ship} before a final write); each
 * batch's copy position is guarded by its {@link Copy}.
 */
final class LogShipper {

    private static final Logger log = LoggerFactory.getLogger(LogShipper.class);

    /** How often new lines are copied. */
    static final long INTERVAL_MILLIS = 200;
    /** Most lines in one chunk row. */
    private static final int MAX_CHUNK = 2000;

    private final LogStore logs;
    private final LogChunks chunks;
    private final List<String> carriedFiles;
    /** Told when a copy was fenced: another replica holds the batch now. */
    private final Consumer<Lease> fenced;
    /** Told when lines of a batch reached the database: they may be shown from then on. */
    private final java.util.function.IntConsumer copiedOut;
    private final Map<Integer, Copy> copies = new ConcurrentHashMap<>();
    private final Set<Integer> dirty = ConcurrentHashMap.newKeySet();

    /** One held batch's copy: its lease, the lines copied so far, the launcher's files as last copied. */
    private static final class Copy {
        final Lease lease;
        /** Written under the copy's lock; read by log readers on any thread ({@link #shipped}). */
        volatile long copied;
        String files;

        Copy(Lease lease, long copied) {
            this.lease = lease;
            this.copied = copied;
        }
    }

    LogShipper(LogStore logs, LogChunks chunks, List<String> carriedFiles, Consumer<Lease> fenced,
               java.util.function.IntConsumer copiedOut) {
        this.copiedOut = requireNonNull(copiedOut, "copiedOut");
        this.logs = requireNonNull(logs, "logs");
        this.chunks = requireNonNull(chunks, "chunks");
        this.carriedFiles = List.copyOf(carriedFiles);
        this.fenced = requireNonNull(fenced, "fenced");
    }

    /** Starts copying a batch this server has just come to hold, after the lines already copied. */
    void track(Lease lease) {
        Copy had = copies.get(lease.batchId());
        if (had != null && had.lease.equals(lease)) {
            return;
        }
        copies.put(lease.batchId(), new Copy(lease, chunks.total(lease.batchId())));
        dirty.add(lease.batchId());
    }

    /** Stops copying (the batch is final, or another replica's). */
    void untrack(int batchId) {
        copies.remove(batchId);
        dirty.remove(batchId);
    }

    /**
     * How many lines of a held batch are in the database: all a reader of this server may be shown,
     * since a line shown here and then lost with this server would be missing, or replaced by another
     * under its offset, on the replica that takes the batch over. {@link Long#MAX_VALUE} for a batch not
     * copied from here (final: every line was copied before its final write). Any thread.
     */
    long shipped(int batchId) {
        Copy copy = copies.get(batchId);
        return copy == null ? Long.MAX_VALUE : copy.copied;
    }

    /** New lines of a batch are indexed; from the indexing thread, so it only marks the batch. */
    void linesAdded(int batchId) {
        if (copies.containsKey(batchId)) {
            dirty.add(batchId);
        }
    }

    /** Copies what is new of every marked batch; on the scheduled thread. */
    void tick() {
        for (Integer id : List.copyOf(dirty)) {
            dirty.remove(id);
            try {
                ship(id);
            } catch (RuntimeException e) {
                dirty.add(id); // the database may be away for a moment: next tick
                log.warn("batch {}: copying log lines to the database failed: {}", id, e.getMessage());
            }
        }
    }

    /** Copies every line of the batch indexed so far, on the calling thread. */
    void ship(int batchId) {
        Copy copy = copies.get(batchId);
        if (copy == null) {
            return;
        }
        boolean advanced = false;
        synchronized (copy) {
            try {
                // The files first: what they count as read is in the log by then, so the next holder
                // repeats at most lines indexed after this read, never skips any.
                Optional<String> files = Optional.of(readCarried(batchId)).filter(f -> !f.equals(copy.files));
                long total = logs.total(batchId);
                while (copy.copied < total) {
                    LogPage page = logs.read(batchId, copy.copied, MAX_CHUNK);
                    if (page.lines().isEmpty()) {
                        break;
                    }
                    chunks.append(copy.lease, copy.copied, page.lines(), files);
                    files.ifPresent(f -> copy.files = f);
                    files = Optional.empty();
                    copy.copied += page.lines().size();
                    advanced = true;
                }
                if (files.isPresent()) {
                    chunks.append(copy.lease, copy.copied, List.of(), files);
                    copy.files = files.get();
                }
            } catch (LeaseLostException e) {
                copies.remove(batchId, copy);
                fenced.accept(copy.lease);
            }
        }
        if (advanced) {
            copiedOut.accept(batchId);
        }
    }

    /**
     * Starts this server's log of a batch it takes over from another replica with the lines that
     * replica had copied, and the launcher's files as they were then; whatever this server had of the
     * batch before (it may have held it once) is dropped first, so the offsets are the database's.
     */
    void seed(int batchId) {
        LogChunks.Page page = chunks.read(batchId, 0, -1);
        logs.delete(batchId);
        if (!page.lines().isEmpty()) {
            logs.appendAll(batchId, page.lines());
        }
        chunks.launchFiles(batchId).ifPresent(files -> writeCarried(batchId, files));
    }

    /** The carried files of a batch as one string: per file its name and its Base64 content (or "-": none). */
    private String readCarried(int batchId) {
        StringBuilder out = new StringBuilder();
        for (String name : carriedFiles) {
            Path file = logs.batchDir(batchId).resolve(name);
            String content;
            try {
                content = Files.exists(file) ? Base64.getEncoder().encodeToString(Files.readAllBytes(file)) : "-";
            } catch (IOException e) {
                content = "-"; // being replaced (written atomically): the next copy has it
            }
            out.append(name).append(' ').append(content).append('\n');
        }
        return out.toString();
    }

    private void writeCarried(int batchId, String files) {
        try {
            Files.createDirectories(logs.batchDir(batchId));
            for (String line : files.split("\n")) {
                String[] parts = line.split(" ", 2);
                if (parts.length == 2 && carriedFiles.contains(parts[0]) && !parts[1].equals("-")) {
                    Files.write(logs.batchDir(batchId).resolve(parts[0]), Base64.getDecoder().decode(parts[1]));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore the launcher's files of batch " + batchId, e);
        }
    }
}
