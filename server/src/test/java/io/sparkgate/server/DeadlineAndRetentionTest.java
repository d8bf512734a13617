package io.sparkgate.server;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.config.ConfigLoader;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every state has a way out, and finished batches go away after the retention period. */
class DeadlineAndRetentionTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.TIMEOUT_RUNNING.name(), "8s", // a two-line app ends well within it even on a loaded machine
            ConfigKeys.RETENTION.name(), "10s"));

    @Test
    void aBatchRunningPastItsDeadlineIsKilledAndEndsDeadWithTheReason() throws Exception {
        int id = create("400", "250");
        Path batchDir = server.dataDir().resolve("batches").resolve(Integer.toString(id));
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(batchDir.resolve("pid")));
        long pid = Long.parseLong(Files.readString(batchDir.resolve("pid")).trim());

        await().atMost(Duration.ofMinutes(1)).until(() -> !state(id).path("state").asText().equals("running")
                                                          && !state(id).path("state").asText().equals("starting"));

        JsonNode batch = server.getJson("/batches/" + id);
        assertThat(batch.get("state").asText()).isEqualTo("dead");
        JsonNode history = batch.get("stateHistory");
        assertThat(history.get(history.size() - 1).get("reason").asText())
                .isEqualTo("running for more than 8s (sparkgate.timeout.running)");
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void aFinishedBatchIsRemovedWithItsLogAfterTheRetentionPeriod() throws Exception {
        int id = create("2", "0");
        Path batchDir = server.dataDir().resolve("batches").resolve(Integer.toString(id));
        // Still there when it has just ended: a user reads the result of a finished batch.
        JsonNode finished = await().atMost(Duration.ofMinutes(1)).until(() -> server.getJson("/batches/" + id),
                b -> b.get("state").asText().equals("success"));
        JsonNode history = finished.get("stateHistory");
        Instant ended = Instant.parse(history.get(history.size() - 1).get("time").asText());
        assertThat(server.get("/batches/" + id + "/log").statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(30)).until(() -> server.get("/batches/" + id).statusCode() == 404);
        // Kept for the whole retention period (10 s) after its end, never less.
        assertThat(Duration.between(ended, Instant.now())).isGreaterThanOrEqualTo(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(batchDir));
    }

    private static int create(String lines, String delayMillis) throws Exception {
        HttpResponse<String> created = server.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["%s", "%s"]}
                """.formatted(EXAMPLES, lines, delayMillis));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("id").asInt();
    }

    private static JsonNode state(int id) throws Exception {
        return server.getJson("/batches/" + id + "/state");
    }

}
