package io.sparkgate.server.yarn;

import io.sparkgate.server.values.Text;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the driver's stdout and stderr in its ApplicationMaster container through the NodeManager's
 * web service ({@code /ws/v1/node/containerlogs/<container>/<file>}), appending new complete lines,
 * prefixed, to the batch log. Once the application has ended and the NodeManager no longer has the
 * files (with log aggregation on, it deletes them after uploading), the rest comes from YARN's
 * aggregated logs ({@link AggregatedLogs}).
 *
 * <p>How far each file has been appended is kept in the batch directory ({@value #STATE_FILE}), so a
 * re-attached batch continues after the last line it had, whichever source serves the rest: no line
 * is appended twice, and the lines already shown keep their offsets.
 *
 * <p>The web service serves a file from its start ({@code size=N}: the first N bytes), not from an
 * offset, so each fetch asks for what was seen plus a chunk and drops the part seen before. That costs
 * a re-read of the file per fetch: fine for drivers (they log little; executors log on their own
 * nodes), and bounded by {@link #MAX_FOLLOWED_BYTES}, past which the rest is left to the container's
 * log page ({@code driverLogUrl}).
 *
 * <p>Over 300 lines because the two sources (the NodeManager while the container lives, the aggregated
 * logs after) share one read position per file, and keeping both next to it is what keeps them exact.
 */
final class DriverLog {

    private static final Logger log = LoggerFactory.getLogger(DriverLog.class);

    static final String STDOUT_PREFIX = "[driver stdout] ";
    static final String STDERR_PREFIX = "[driver stderr] ";

    /** The batch-directory file with the container and the bytes of each of its files already appended. */
    static final String STATE_FILE = "driver-log";
    private static final int CHUNK = 1 << 20;
    private static final long MAX_FOLLOWED_BYTES = 64L << 20;
    private static final HttpClient HTTP = HttpClient.newBuilder()
            // NodeManagers' Jetty does not speak HTTP/2; no h2c upgrade attempt.
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();

    private final AmContainer am;
    private final String appId;
    private final String appOwner;
    private final Optional<AggregatedLogs> aggregated;
    private final Path stateFile;
    private final List<ContainerFile> files;
    private final boolean resumed;

    /**
     * The driver log of {@code am}, continuing where the batch's state file says it stopped when it names
     * the same container.
     *
     * @param appOwner the user the application runs as (aggregated logs are kept per user)
     * @param stateFile where the appended lengths are kept
     */
    DriverLog(AmContainer am, String appId, String appOwner, Optional<AggregatedLogs> aggregated, Path stateFile) {
        this.am = requireNonNull(am, "am");
        this.appId = requireNonNull(appId, "appId");
        this.appOwner = requireNonNull(appOwner, "appOwner");
        this.aggregated = requireNonNull(aggregated, "aggregated");
        this.stateFile = requireNonNull(stateFile, "stateFile");
        this.files = List.of(new ContainerFile("stdout", STDOUT_PREFIX), new ContainerFile("stderr", STDERR_PREFIX));
        Map<String, Long> saved = load(stateFile, am.containerId());
        for (ContainerFile f : files) {
            f.offset = saved.getOrDefault(f.name, 0L);
        }
        this.resumed = !saved.isEmpty();
    }

    /** Whether this follows on from lines a previous server process appended. */
    boolean resumed() {
        return resumed;
    }

    String containerId() {
        return am.containerId();
    }

    /** Appends the complete lines written since the last fetch; a failed fetch is retried next time. */
    void fetch(Consumer<byte[]> sink) {
        boolean progressed = false;
        for (ContainerFile f : files) {
            long before = f.appended();
            f.fetch(sink);
            progressed |= f.appended() != before;
        }
        if (progressed) {
            // After the lines are in the batch log: a crash in between repeats at most this round's lines.
            save();
        }
    }

    /**
     * A last fetch that also completes a last line without terminator. A file the NodeManager no longer
     * has is read from the aggregated logs; while they do not have it yet either, this returns false
     * (call again later), unless {@code giveUp} or the cluster aggregates no logs: then a line says where
     * the output is.
     *
     * @return whether every file is complete
     */
    boolean finish(Consumer<byte[]> sink, boolean giveUp) {
        boolean complete = true;
        for (ContainerFile f : files) {
            complete &= f.finish(sink, giveUp);
        }
        return complete;
    }

    /** {@link #finish(Consumer, boolean)} giving up at once: for a container the application left. */
    void finish(Consumer<byte[]> sink) {
        finish(sink, true);
    }

    private static Map<String, Long> load(Path stateFile, String containerId) {
        Map<String, Long> saved = new HashMap<>();
        try {
            List<String> lines = Files.readAllLines(stateFile, StandardCharsets.UTF_8);
            if (lines.isEmpty() || !lines.get(0).equals("container " + containerId)) {
                return saved;
            }
            for (String line : lines.subList(1, lines.size())) {
                String[] parts = line.split(" ");
                if (parts.length == 2) {
                    saved.put(parts[0], Long.parseLong(parts[1]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // none yet, or unreadable: follow from the start
            saved.clear();
        }
        return saved;
    }

    /** Records how much of each file is in the batch log; replaced atomically, so a crash leaves one or the other. */
    private void save() {
        StringBuilder sb = new StringBuilder("container ").append(am.containerId()).append('\n');
        for (ContainerFile f : files) {
            sb.append(f.name).append(' ').append(f.appended()).append('\n');
        }
        Path tmp = stateFile.resolveSibling(STATE_FILE + ".tmp");
        try {
            Files.writeString(tmp, sb, StandardCharsets.UTF_8);
            Files.move(tmp, stateFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("{}: cannot record how far the driver log was read in {}", am.containerId(), stateFile, e);
        }
    }

    private final class ContainerFile {
        private final String name;
        private final String prefix;
        private long offset;
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private boolean done;
        private boolean failureLogged;

        /** Bytes of the file that are in the batch log (the partial last line is not). */
        long appended() {
            return offset - partial.size();
        }

        /** The last fetch of this file; see {@link DriverLog#finish(Consumer, boolean)}. */
        boolean finish(Consumer<byte[]> sink, boolean giveUp) {
            if (done) {
                return true;
            }
            try {
                fetchFromNodeManager(sink);
            } catch (IOException e) {
                Optional<byte[]> whole = Optional.empty();
                IOException aggregatedFailure = null;
                if (aggregated.isPresent()) {
                    try {
                        whole = aggregated.get().read(appId, appOwner, am.containerId(), name);
                    } catch (IOException ae) {
                        aggregatedFailure = ae;
                    }
                }
                if (whole.isPresent()) {
                    byte[] bytes = whole.get();
                    if (bytes.length > offset) {
                        emit(sink, Arrays.copyOfRange(bytes, (int) Math.min(offset, bytes.length), bytes.length));
                        offset = bytes.length;
                    }
                } else if (!giveUp && aggregated.isPresent()) {
                    // Not uploaded yet: the NodeManager uploads it once the application ends. Without
                    // aggregation nothing will come, so the batch ends now rather than after a wait.
                    return false;
                } else {
                    sink.accept(line(Text.NOTICE + "the driver's " + name
                            + " could not be read from the NodeManager (" + e + ")"
                            + (aggregated.isEmpty() ? "" : aggregatedFailure != null
                                    ? " nor from the aggregated logs (" + aggregatedFailure + ")"
                                    : " and is not among the aggregated logs")
                            + "; see " + (am.logUrl().isEmpty() ? "yarn logs -applicationId " + appId : am.logUrl())));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            done = true;
            if (partial.size() > 0) {
                partial.write('\n');
                sink.accept(withPrefix(partial.toByteArray()));
                partial.reset();
            }
            save();
            return true;
        }

        /** New bytes from the NodeManager, in chunks, up to {@link #MAX_FOLLOWED_BYTES}. */
        private void fetchFromNodeManager(Consumer<byte[]> sink) throws IOException, InterruptedException {
            while (offset < MAX_FOLLOWED_BYTES) {
                byte[] content = read(offset + CHUNK);
                if (content.length <= offset) {
                    break;
                }
                emit(sink, Arrays.copyOfRange(content, (int) Math.min(offset, Integer.MAX_VALUE), content.length));
                boolean more = content.length >= offset + CHUNK;
                offset = content.length;
                if (!more) {
                    break;
                }
            }
            if (offset >= MAX_FOLLOWED_BYTES && !done) {
                done = true;
                sink.accept(line(Text.NOTICE + "the driver's " + name + " is longer than "
                        + (MAX_FOLLOWED_BYTES >> 20) + " MB; the rest is at " + am.logUrl()));
            }
        }

        ContainerFile(String name, String prefix) {
            this.name = name;
            this.prefix = prefix;
        }

        /** New complete lines while the application runs; a failed read is retried next time. */
        void fetch(Consumer<byte[]> sink) {
            if (done || am.nodeHttpAddress().isEmpty()) {
                return; // no NodeManager to ask (a container the RM forgot): only the last fetch reads it
            }
            try {
                fetchFromNodeManager(sink);
            } catch (IOException e) {
                if (!failureLogged) {
                    failureLogged = true;
                    log.info("{}: cannot read the driver's {} yet", am.containerId(), name, e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void emit(Consumer<byte[]> sink, byte[] bytes) {
            int lastNl = -1;
            for (int i = bytes.length - 1; i >= 0; i--) {
                if (bytes[i] == '\n') {
                    lastNl = i;
                    break;
                }
            }
            if (lastNl < 0) {
                partial.write(bytes, 0, bytes.length);
                return;
            }
            partial.write(bytes, 0, lastNl + 1);
            sink.accept(withPrefix(partial.toByteArray()));
            partial.reset();
            partial.write(bytes, lastNl + 1, bytes.length - lastNl - 1);
        }

        private byte[] withPrefix(byte[] lines) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(lines.length + 64);
            byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
            int start = 0;
            for (int i = 0; i < lines.length; i++) {
                if (lines[i] == '\n') {
                    out.write(p, 0, p.length);
                    out.write(lines, start, i + 1 - start);
                    start = i + 1;
                }
            }
            return out.toByteArray();
        }

        /** The file's first {@code size} bytes, without the web service's header and trailer. */
        private byte[] read(long size) throws IOException, InterruptedException {
            URI uri = URI.create(nodeBaseUrl() + "/ws/v1/node/containerlogs/"
                    + am.containerId() + "/" + name + "?size=" + size);
            HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(uri)
                    .timeout(Duration.ofSeconds(15))
                    .header("Accept", "text/plain")
                    .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                throw new IOException("HTTP " + response.statusCode() + " from " + uri);
            }
            return ContainerLogResponse.content(response.body());
        }
    }

    /** The NodeManager's web address; the RM's container report gives it with its scheme, others without. */
    private String nodeBaseUrl() throws IOException {
        String address = am.nodeHttpAddress();
        if (address.isEmpty()) {
            throw new IOException("the ResourceManager no longer knows the container's node");
        }
        return address.startsWith("http://") || address.startsWith("https://") ? address : "http://" + address;
    }

    private static byte[] line(String text) {
        return (text + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
