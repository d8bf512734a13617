package io.sparkgate.server.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator who wants a line per request turns the access log on; it is off otherwise. */
class AccessLogTest {

    /** logback.xml: ${SPARKGATE_LOG_DIR}/access.log (the build points it into target/). */
    private static final Path ACCESS_LOG = Path.of(System.getenv().getOrDefault("SPARKGATE_LOG_DIR", "logs"),
            "access.log");

    @TempDir
    Path dir;

    @Test
    void onlyAServerWithTheAccessLogOnWritesARequestLine() throws Exception {
        String quiet = "/batches/" + 424242 + "?from=" + UUID.randomUUID().hashCode();
        try (TestServer off = TestServer.start(dir.resolve("off"), Map.of())) {
            assertThat(off.get(quiet).statusCode()).isEqualTo(404);
        }
        String logged = "/batches/" + 424243;
        try (TestServer on = TestServer.start(dir.resolve("on"), Map.of(ConfigKeys.ACCESS_LOG.name(), "true"))) {
            assertThat(on.get(logged).statusCode()).isEqualTo(404);
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(ACCESS_LOG)
                    // The request line is the path, then (for a call of the batch API) the RPC it ran
                    // as, e.g. "GET /batches/424243#BatchService/GetBatch h2c".
                    && Files.readString(ACCESS_LOG).contains("\"GET " + logged + "#BatchService/GetBatch "));
        }
        String log = Files.readString(ACCESS_LOG);
        assertThat(log).contains(" 404 ");
        assertThat(log).doesNotContain(quiet);
    }
}
