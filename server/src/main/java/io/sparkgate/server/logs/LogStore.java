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
import java.util.stream.Stream;

/**
 * Batch logs on disk: per batch, {@code log} holds the lines and {@code log.idx} the byte offset at
 * which each line starts (8 bytes a line). Any page is served by two positional reads, however
 * long the log, and memory per batch is a few fields.
 *
 * <p>One writer per batch (the thread that reads the application's output) appends; any number of
 * readers read concurrently. A reader sees exactly the lines whose index entry was written before
 * the line count it read was published.
 */
public final class LogStore implements AutoCloseable {

    private static final String LOG_FILE = "log";
    private static final String INDEX_FILE = "log.idx";

    private final Path root;
    private final long maxBytesPerBatch;
    private final ConcurrentMap<Integer, BatchLog> logs = new ConcurrentHashMap<>();

    public LogStore(Path root, long maxBytesPerBatch) {
        this.root = requireNonNull(root, "root");
        this.maxBytesPerBatch = maxBytesPerBatch;
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create log directory " + root, e);
        }
    }

    /** The directory of one batch's files; launchers may keep their own files there too. */
    public Path batchDir(int batchId) {
        return root.resolve(Integer.toString(batchId));
    }

    /**
     * Appends one line (without terminator) and returns its line number. Lines past the size cap
     * are dropped; the first dropped line is replaced by a marker saying so.
     */
    public long append(int batchId, String line) {
        return log(batchId).append(line);
    }

    /** Number of lines written so far; 0 for a batch without log. */
    public long total(int batchId) {
        BatchLog log = existing(batchId);
        return log == null ? 0 : log.committed.lines;
    }

    /**
     * Up to {@code size} lines starting at line {@code from}; {@code size < 0} means all. A
     * {@code from} past the end gives an empty page.
     */
    public LogPage read(int batchId, long from, long size) {
        if (from < 0) {
            throw new IllegalArgumentException("from must be >= 0: " + from);
        }
        BatchLog log = existing(batchId);
        if (log == null) {
            return new LogPage(from, 0, List.of());
        }
        return log.read(from, size);
    }

    /** The last {@code n} lines. */
    public List<String> tail(int batchId, int n) {
        long total = total(batchId);
        return read(batchId, Math.max(0, total - n), n).lines();
    }

    /** Closes and deletes one batch's log files. */
    public void delete(int batchId) {
        BatchLog log = logs.remove(batchId);
        if (log != null) {
            log.close();
        }
        deleteRecursively(batchDir(batchId));
    }

    @Override
    public void close() {
        logs.values().forEach(BatchLog::close);
        logs.clear();
    }

    private BatchLog existing(int batchId) {
        BatchLog log = logs.get(batchId);
        if (log == null && Files.exists(batchDir(batchId).resolve(INDEX_FILE))) {
            return log(batchId);
        }
        return log;
    }

    private BatchLog log(int batchId) {
        return logs.computeIfAbsent(batchId, id -> BatchLog.open(batchDir(id), maxBytesPerBatch));
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

    /** Lines and bytes written, published together so readers never see one without the other. */
    private record Committed(long lines, long bytes) {}

    private static final class BatchLog {
        private final FileChannel data;
        private final FileChannel index;
        private final long maxBytes;
        private volatile Committed committed;
        private boolean truncated;

        private BatchLog(FileChannel data, FileChannel index, long maxBytes, Committed committed) {
            this.data = data;
            this.index = index;
            this.maxBytes = maxBytes;
            this.committed = committed;
        }

        static BatchLog open(Path dir, long maxBytes) {
            try {
                Files.createDirectories(dir);
                FileChannel data = FileChannel.open(dir.resolve(LOG_FILE), StandardOpenOption.CREATE,
                        StandardOpenOption.READ, StandardOpenOption.WRITE);
                FileChannel index = FileChannel.open(dir.resolve(INDEX_FILE), StandardOpenOption.CREATE,
                        StandardOpenOption.READ, StandardOpenOption.WRITE);
                // A crash can leave a line written without its index entry; the index decides.
                long lines = index.size() / Long.BYTES;
                long bytes = lines == 0 ? 0 : endOfLastLine(data, index, lines);
                return new BatchLog(data, index, maxBytes, new Committed(lines, bytes));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open log in " + dir, e);
            }
        }

        private static long endOfLastLine(FileChannel data, FileChannel index, long lines) throws IOException {
            long start = readLong(index, (lines - 1) * Long.BYTES);
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
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

        synchronized long append(String line) {
            Committed c = committed;
            if (truncated) {
                return c.lines - 1;
            }
            byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
            if (maxBytes > 0 && c.bytes + bytes.length > maxBytes) {
                truncated = true;
                bytes = ("[sparkgate] log truncated: this batch's log reached its limit of " + maxBytes
                        + " bytes (sparkgate.log.max-size); later lines are dropped\n")
                        .getBytes(StandardCharsets.UTF_8);
            }
            try {
                writeFully(data, ByteBuffer.wrap(bytes), c.bytes);
                writeFully(index, ByteBuffer.allocate(Long.BYTES).putLong(0, c.bytes), c.lines * Long.BYTES);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write log", e);
            }
            committed = new Committed(c.lines + 1, c.bytes + bytes.length);
            return c.lines;
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
                    if (data.read(buf, start + buf.position()) < 0) {
                        break;
                    }
                }
                String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
                List<String> lines = new ArrayList<>((int) (end - from));
                int pos = 0;
                while (pos < text.length() && lines.size() < end - from) {
                    int nl = text.indexOf('\n', pos);
                    int lineEnd = nl < 0 ? text.length() : nl;
                    lines.add(text.substring(pos, lineEnd));
                    pos = lineEnd + 1;
                }
                return new LogPage(from, c.lines, lines);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read log", e);
            }
        }

        synchronized void close() {
            try {
                data.close();
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

        private static void writeFully(FileChannel channel, ByteBuffer buf, long position) throws IOException {
            while (buf.hasRemaining()) {
                channel.write(buf, position + buf.position());
            }
        }
    }
}
