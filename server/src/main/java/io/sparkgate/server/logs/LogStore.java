package io.sparkgate.server.logs;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batch logs on disk. Per batch, {@code output} holds what the application wrote, exactly as it wrote
 * it (the {@code spark-submit} process writes into it directly, so the log survives a server restart
 * and never passes through the server's memory), and {@code output.idx} the byte offset at which each
 * complete line starts (8 bytes a line). Any page is served by two positional reads, however long the
 * log, and memory per batch is a few fields, and only while it is written: a log that will not grow any
 * more is {@linkplain #release released}, and a read of it opens its two files for that read alone.
 *
 * <p>{@link #advance} indexes the lines completed since the last call; one thread per batch calls it
 * (the {@link LogTailer}, or whoever appends). Readers read concurrently and see exactly the lines
 * indexed before the count they read was published.
 *
 * <p>Over 300 lines: the file format (output, index) and its reading, indexing and recovery are one
 * thing whose invariants must be read together.
 */
public final class LogStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LogStore.class);
    private static final String OUTPUT_FILE = "output";
    private static final String INDEX_FILE = "output.idx";

    private final Path root;
    private final ConcurrentMap<Integer, BatchLog> logs = new ConcurrentHashMap<>();
    private final List<LogListener> listeners = new CopyOnWriteArrayList<>();

    public LogStore(Path root) {
        this.root = requireNonNull(root, "root");
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create log directory " + root, e);
        }
    }

    /** Told after new lines of any batch are indexed; must not block. */
    public void addListener(LogListener listener) {
        listeners.add(requireNonNull(listener, "listener"));
    }

    /** The directory of one batch's files; launchers keep their own files there too. */
    public Path batchDir(int batchId) {
        return root.resolve(Integer.toString(batchId));
    }

    /** The file an application's output is written to (appended). */
    public Path outputFile(int batchId) {
        return batchDir(batchId).resolve(OUTPUT_FILE);
    }

    /** Appends a line of the server's own (launch errors, notices) and indexes it; returns the new total. */
    public long append(int batchId, String line) {
        BatchLog batchLog = log(batchId);
        synchronized (batchLog) {
            try {
                Files.write(outputFile(batchId), (line + "\n").getBytes(StandardCharsets.UTF_8),
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to log of batch " + batchId, e);
            }
            return advance(batchId, false);
        }
    }

    /**
     * Appends lines copied from elsewhere (a replica taking a batch over starts its log with the lines
     * the previous holder had copied to the database) and indexes them; returns the new total.
     */
    public long appendAll(int batchId, List<String> lines) {
        BatchLog batchLog = log(batchId);
        StringBuilder joined = new StringBuilder();
        lines.forEach(l -> joined.append(l).append('\n'));
        synchronized (batchLog) {
            try {
                Files.write(outputFile(batchId), joined.toString().getBytes(StandardCharsets.UTF_8),
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to log of batch " + batchId, e);
            }
            return advance(batchId, false);
        }
    }

    /**
     * Indexes the lines completed in the output file since the last call and returns the number of
     * lines. With {@code atEnd} (the writer is gone) a last line without terminator is completed too.
     */
    public long advance(int batchId, boolean atEnd) {
        BatchLog batchLog = log(batchId);
        long before;
        long after;
        synchronized (batchLog) {
            before = batchLog.committed.lines;
            after = batchLog.advance(atEnd);
        }
        if (after > before) {
            for (LogListener l : listeners) {
                try {
                    l.linesAdded(batchId, after);
                } catch (RuntimeException e) {
                    log.warn("log listener failed", e);
                }
            }
        }
        return after;
    }

    /** Number of lines indexed so far; 0 for a batch without log. */
    public long total(int batchId) {
        return reading(batchId, batchLog -> batchLog.committed.lines, 0L);
    }

    /**
     * Up to {@code size} lines starting at line {@code from}; {@code size < 0} means all. A
     * {@code from} past the end gives an empty page.
     */
    public LogPage read(int batchId, long from, long size) {
        if (from < 0) {
            throw new IllegalArgumentException("from must be >= 0: " + from);
        }
        return reading(batchId, batchLog -> batchLog.read(from, size), new LogPage(from, 0, List.of()));
    }

    /** The last {@code n} lines. */
    public List<String> tail(int batchId, int n) {
        return reading(batchId, batchLog -> batchLog.read(Math.max(0, batchLog.committed.lines - n), n).lines(), List.of());
    }

    /**
     * The batch's log will not grow any more (its application is gone and its output indexed): its files
     * are closed, and later reads open them for the read alone. Without this every batch ever written
     * since the start kept two open files and their buffers (a server with 100,000 batches: 200,000 file
     * descriptors and ~0.7 KB of heap each). A line appended later opens them again.
     */
    public void release(int batchId) {
        BatchLog batchLog = logs.remove(batchId);
        if (batchLog != null) {
            batchLog.close();
        }
    }

    /** Closes and deletes one batch's files. */
    public void delete(int batchId) {
        BatchLog batchLog = logs.remove(batchId);
        if (batchLog != null) {
            batchLog.close();
        }
        deleteRecursively(batchDir(batchId));
    }

    @Override
    public void close() {
        logs.values().forEach(BatchLog::close);
        logs.clear();
    }

    /**
     * {@code read} applied to the batch's log: to the writer's open files while it has them, else to
     * files opened for this read alone (a finished batch's log is read rarely: its tail is in the store);
     * {@code none} when the batch has no log.
     */
    private <T> T reading(int batchId, java.util.function.Function<BatchLog, T> read, T none) {
        BatchLog open = logs.get(batchId);
        if (open != null) {
            try {
                return read.apply(open);
            } catch (UncheckedIOException e) {
                if (!(e.getCause() instanceof java.nio.channels.ClosedChannelException) || logs.get(batchId) == open) {
                    throw e;
                }
                // Released while read: read it again from its files.
            }
        }
        Path dir = batchDir(batchId);
        if (!Files.exists(dir.resolve(INDEX_FILE))) {
            return none;
        }
        BatchLog once = BatchLog.open(dir, false);
        try {
            return read.apply(once);
        } finally {
            once.close();
        }
    }

    /** The log a writer (the tailer, an append) indexes into, opened on first use and kept open. */
    private BatchLog log(int batchId) {
        return logs.computeIfAbsent(batchId, id -> BatchLog.open(batchDir(id), true));
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    /** Lines indexed and the byte offset where the next line starts, published together. */
    private record Committed(long lines, long bytes) {}

    private static final class BatchLog {
        private static final int CHUNK = 64 * 1024;

        private final Path outputPath;
        private final FileChannel output;
        private final FileChannel index;
        private volatile Committed committed;

        private BatchLog(Path outputPath, FileChannel output, FileChannel index, Committed committed) {
            this.outputPath = outputPath;
            this.output = output;
            this.index = index;
            this.committed = committed;
        }

        /** Opens the log in {@code dir}: created if missing when {@code forWriting}, else it must exist. */
        static BatchLog open(Path dir, boolean forWriting) {
            try {
                Path outputPath = dir.resolve(OUTPUT_FILE);
                FileChannel output;
                FileChannel index;
                if (forWriting) {
                    Files.createDirectories(dir);
                    if (!Files.exists(outputPath)) {
                        Files.createFile(outputPath);
                    }
                    output = FileChannel.open(outputPath, StandardOpenOption.READ);
                    index = FileChannel.open(dir.resolve(INDEX_FILE), StandardOpenOption.CREATE,
                            StandardOpenOption.READ, StandardOpenOption.WRITE);
                } else {
                    output = FileChannel.open(outputPath, StandardOpenOption.READ);
                    try {
                        index = FileChannel.open(dir.resolve(INDEX_FILE), StandardOpenOption.READ);
                    } catch (IOException e) {
                        output.close();
                        throw e;
                    }
                }
                // A crash can leave a partial index entry; whole entries are whole lines.
                long lines = index.size() / Long.BYTES;
                long bytes = lines == 0 ? 0 : endOfLine(output, readLong(index, (lines - 1) * Long.BYTES));
                return new BatchLog(outputPath, output, index, new Committed(lines, bytes));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open log in " + dir, e);
            }
        }

        /** The offset just past the newline that ends the line starting at {@code start}. */
        private static long endOfLine(FileChannel data, long start) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            long pos = start;
            while (true) {
                buf.clear();
                int n = data.read(buf, pos);
                if (n <= 0) {
                    return pos;
                }
                for (int i = 0; i < n; i++) {
                    if (buf.get(i) == '\n') {
                        return pos + i + 1;
                    }
                }
                pos += n;
            }
        }

        long advance(boolean atEnd) {
            Committed c = committed;
            long lines = c.lines;
            long lineStart = c.bytes;
            try {
                long size = output.size();
                if (atEnd && size > lineStart && lastByte(size) != '\n') {
                    // The writer is gone and left a last line without terminator: complete it.
                    Files.write(outputPath, new byte[] {'\n'}, StandardOpenOption.APPEND);
                    size++;
                }
                if (size <= lineStart) {
                    // Nothing new, the common case of a tailer's tick: no buffers (two of CHUNK each for
                    // every running batch 100 times a second were 96% of a burst's allocation, in JFR).
                    return lines;
                }
                // Sized by what is new: a line is at least its newline, so it needs at most 8 index bytes a byte.
                int fresh = (int) Math.min(CHUNK, size - lineStart);
                ByteBuffer buf = ByteBuffer.allocate(fresh);
                ByteBuffer entries = ByteBuffer.allocate((int) Math.min(CHUNK, (long) fresh * Long.BYTES));
                long pos = lineStart;
                while (pos < size) {
                    buf.clear();
                    int n = output.read(buf, pos);
                    if (n <= 0) {
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        if (buf.get(i) == '\n') {
                            if (!entries.hasRemaining()) {
                                lines += flush(entries, lines);
                            }
                            entries.putLong(lineStart);
                            lineStart = pos + i + 1;
                        }
                    }
                    pos += n;
                }
                lines += flush(entries, lines);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot index log " + outputPath, e);
            }
            committed = new Committed(lines, lineStart);
            return lines;
        }

        private int flush(ByteBuffer entries, long linesBefore) throws IOException {
            entries.flip();
            int count = entries.remaining() / Long.BYTES;
            long position = linesBefore * Long.BYTES;
            while (entries.hasRemaining()) {
                position += index.write(entries, position);
            }
            entries.clear();
            return count;
        }

        private byte lastByte(long size) throws IOException {
            ByteBuffer one = ByteBuffer.allocate(1);
            output.read(one, size - 1);
            return one.get(0);
        }

        LogPage read(long from, long size) {
            Committed c = committed;
            long end = size < 0 ? c.lines : Math.min(c.lines, from + size);
            if (from >= end) {
                return new LogPage(from, c.lines, List.of());
            }
            try {
                long start = readLong(index, from * Long.BYTES);
                long stop = end == c.lines ? c.bytes : readLong(index, end * Long.BYTES);
                ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(stop - start));
                while (buf.hasRemaining()) {
                    if (output.read(buf, start + buf.position()) < 0) {
                        break;
                    }
                }
                String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
                List<String> lines = new ArrayList<>((int) (end - from));
                int pos = 0;
                while (pos < text.length() && lines.size() < end - from) {
                    int nl = text.indexOf('\n', pos);
                    int lineEnd = nl < 0 ? text.length() : nl;
                    int contentEnd = lineEnd > pos && text.charAt(lineEnd - 1) == '\r' ? lineEnd - 1 : lineEnd;
                    lines.add(text.substring(pos, contentEnd));
                    pos = lineEnd + 1;
                }
                return new LogPage(from, c.lines, lines);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read log " + outputPath, e);
            }
        }

        synchronized void close() {
            try {
                output.close();
                index.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static long readLong(FileChannel channel, long position) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(Long.BYTES);
            while (buf.hasRemaining()) {
                if (channel.read(buf, position + buf.position()) < 0) {
                    throw new IOException("index ends early at " + position);
                }
            }
            return buf.getLong(0);
        }
    }
}
