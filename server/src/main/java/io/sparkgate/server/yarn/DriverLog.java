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
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the driver's stdout and stderr in its ApplicationMaster container through the NodeManager's
 * web service ({@code /ws/v1/node/containerlogs/<container>/<file>}), appending new complete lines,
 * prefixed, to the batch log.
 *
 * <p>The web service serves a file from its start ({@code size=N}: the first N bytes), not from an
 * offset, so each fetch asks for what was seen plus a chunk and drops the part seen before. That costs
 * a re-read of the file per fetch: fine for drivers (they log little; executors log on their own
 * nodes), and bounded by {@link #MAX_FOLLOWED_BYTES}, past which the rest is left to the container's
 * log page ({@code driverLogUrl}).
 */
final class DriverLog {

    private static final Logger log = LoggerFactory.getLogger(DriverLog.class);

    static final String STDOUT_PREFIX = "[driver stdout] ";
    static final String STDERR_PREFIX = "[driver stderr] ";

    private static final int CHUNK = 1 << 20;
    private static final long MAX_FOLLOWED_BYTES = 64L << 20;
    private static final HttpClient HTTP = HttpClient.newBuilder()
            // NodeManagers' Jetty does not speak HTTP/2; no h2c upgrade attempt.
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();

    private final AmContainer am;
    private final List<ContainerFile> files;

    DriverLog(AmContainer am) {
        this.am = requireNonNull(am, "am");
        this.files = List.of(new ContainerFile("stdout", STDOUT_PREFIX), new ContainerFile("stderr", STDERR_PREFIX));
    }

    String containerId() {
        return am.containerId();
    }

    /** Appends the complete lines written since the last fetch; a failed fetch is retried next time. */
    void fetch(Consumer<byte[]> sink) {
        for (ContainerFile f : files) {
            f.fetch(sink, false);
        }
    }

    /** A last fetch that also completes a last line without terminator, or says why there is none. */
    void finish(Consumer<byte[]> sink) {
        for (ContainerFile f : files) {
            f.fetch(sink, true);
        }
    }

    private final class ContainerFile {
        private final String name;
        private final String prefix;
        private long offset;
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private boolean done;
        private boolean failureLogged;

        ContainerFile(String name, String prefix) {
            this.name = name;
            this.prefix = prefix;
        }

        void fetch(Consumer<byte[]> sink, boolean last) {
            if (done) {
                return;
            }
            try {
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
                if (offset >= MAX_FOLLOWED_BYTES) {
                    done = true;
                    sink.accept(line(Text.NOTICE + "the driver's " + name + " is longer than "
                            + (MAX_FOLLOWED_BYTES >> 20) + " MB; the rest is at " + am.logUrl()));
                }
            } catch (IOException e) {
                if (last) {
                    sink.accept(line(Text.NOTICE + "the driver's " + name
                            + " could not be read from the NodeManager (" + e + "); see " + am.logUrl()));
                } else if (!failureLogged) {
                    failureLogged = true;
                    log.info("{}: cannot read the driver's {} yet", am.containerId(), name, e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (last) {
                done = true;
                if (partial.size() > 0) {
                    partial.write('\n');
                    sink.accept(withPrefix(partial.toByteArray()));
                    partial.reset();
                }
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
    private String nodeBaseUrl() {
        String address = am.nodeHttpAddress();
        return address.startsWith("http://") || address.startsWith("https://") ? address : "http://" + address;
    }

    private static byte[] line(String text) {
        return (text + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
