package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Calls that Livy answers and that a Livy user's clients (Airflow's LivyHook, pylivy, dashboards, curl)
 * really send, replayed exactly (method, path, headers, body) against a server configured from a Livy
 * user's livy.conf keys, with real batches.
 */
class LivyDropInTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration APP_TIMEOUT = Duration.ofMinutes(4);
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();
    private static final Path PYTHON_DIR = pythonDir();

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            "livy.file.local-dir-whitelist", TestServer.EXAMPLES_JAR.getParent().getParent() + "," + PYTHON_DIR,
            "livy.spark.master", "local[1]",
            "livy.server.csrf-protection.enabled", "true"));

    private final HttpClient http = HttpClient.newHttpClient();

    /** Airflow's LivyHook posts a DAG's conf as it is, Hadoop keys and numbers included. */
    @Test
    void confKeysThatAreNoSparkPropertiesAreAcceptedDroppedAndSaidSoFirstInTheLog() throws Exception {
        HttpResponse<String> created = replay("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["3", "0"],
                 "conf": {"n": 0, "livy.rsc.x": "1", "fs.s3a.endpoint": "http://minio:9000", "spark.ui.enabled": "false"}}
                """.formatted(EXAMPLES), "Content-Type", "application/json", "X-Requested-By", "airflow");

        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        int id = JSON.readTree(created.body()).get("id").asInt();
        String firstReason = JSON.readTree(created.body()).get("stateHistory").get(0).get("reason").asText();
        assertThat(firstReason).contains("ignoring non-Spark config property: fs.s3a.endpoint",
                "ignoring non-Spark config property: livy.rsc.x", "ignoring non-Spark config property: n");
        awaitFinal(id, "success");
        List<String> log = fullLog(id);
        assertThat(log.subList(0, 3)).containsExactly(
                "[sparkgate] ignoring non-Spark config property: fs.s3a.endpoint",
                "[sparkgate] ignoring non-Spark config property: livy.rsc.x",
                "[sparkgate] ignoring non-Spark config property: n");
        assertThat(log).contains("line 0", "line 2");
    }

    @Test
    void aDeniedConfKeyIsStillRefusedAndRecordsNothing() throws Exception {
        int before = server.getJson("/batches?size=-1").get("total").asInt();
        HttpResponse<String> refused = replay("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "conf": {"n": 0, "spark.master": "yarn"}}
                """.formatted(EXAMPLES), "Content-Type", "application/json", "X-Requested-By", "airflow");

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        assertThat(JSON.readTree(refused.body()).get("msg").asText()).contains("spark.master");
        assertThat(server.getJson("/batches?size=-1").get("total").asInt()).isEqualTo(before);
    }

    /** Dashboards fetch every batch at once; scripts look a batch up by the task name they gave it. */
    @Test
    void aBatchIsFoundByItsNameTheNewestOfThatNameAndTheListGivesAllWithSizeMinusOne() throws Exception {
        int older = create("etl-daily");
        int newer = create("etl-daily");
        create("etl-hourly");
        awaitFinal(older, "success");
        awaitFinal(newer, "success");

        JsonNode byName = json(replay("GET", "/batches/etl-daily", null, "Accept", "application/json"), 200);
        assertThat(byName.get("id").asInt()).isEqualTo(newer);
        assertThat(byName.get("name").asText()).isEqualTo("etl-daily");
        JsonNode state = json(replay("GET", "/batches/etl-daily/state", null), 200);
        assertThat(state.get("id").asInt()).isEqualTo(newer);
        assertThat(state.get("state").asText()).isEqualTo("success");
        JsonNode log = json(replay("GET", "/batches/etl-daily/log?from=0&size=-1", null), 200);
        assertThat(log.get("id").asInt()).isEqualTo(newer);
        assertThat(log.get("log").toString()).contains("line 0");

        HttpResponse<String> unknown = replay("GET", "/batches/no-such-task", null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.headers().firstValue("content-type").orElse("")).startsWith("application/json");
        assertThat(JSON.readTree(unknown.body()).get("msg").asText()).isEqualTo("Session 'no-such-task' not found.");
        assertThat(replay("GET", "/batches/no-such-task/state", null).statusCode()).isEqualTo(404);

        JsonNode all = json(replay("GET", "/batches?size=-1", null), 200);
        assertThat(all.get("sessions")).hasSize(all.get("total").asInt());
        assertThat(all.get("total").asInt()).isGreaterThanOrEqualTo(3);
        assertThat(json(replay("GET", "/batches?from=0&size=-5", null), 200).get("sessions"))
                .hasSize(all.get("total").asInt());

        HttpResponse<String> deleted = replay("DELETE", "/batches/etl-daily", null, "X-Requested-By", "airflow");
        assertThat(JSON.readTree(deleted.body()).get("msg").asText()).isEqualTo("deleted");
        assertThat(replay("GET", "/batches/" + newer, null).statusCode()).isEqualTo(404);
        assertThat(json(replay("GET", "/batches/etl-daily", null), 200).get("id").asInt()).isEqualTo(older);
    }

    /** Load balancers and clients probe with HEAD; Livy answers it on every GET route. */
    @Test
    void headOnEveryGetRouteAnswersTheGetsStatusAndHeadersWithoutABody() throws Exception {
        int id = create("probed");
        awaitFinal(id, "success");
        for (String path : List.of("/batches", "/batches?size=-1", "/batches/" + id, "/batches/" + id + "/state",
                                   "/batches/" + id + "/log", "/batches/probed", "/batches/")) {
            HttpResponse<String> get = replay("GET", path, null);
            HttpResponse<String> head = replay("HEAD", path, null);
            assertThat(head.statusCode()).as("HEAD " + path).isEqualTo(200).isEqualTo(get.statusCode());
            assertThat(head.headers().firstValue("content-type")).as("HEAD " + path)
                    .isEqualTo(get.headers().firstValue("content-type"));
            assertThat(head.body()).as("HEAD " + path).isEmpty();
        }
        HttpResponse<String> unknown = replay("HEAD", "/batches/424242", null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).isEmpty();
    }

    /** Scripts that build URLs by joining with '/' send a trailing slash; Livy ignores it. */
    @Test
    void aTrailingSlashOnAnyPathBehavesAsWithout() throws Exception {
        HttpResponse<String> created = replay("POST", "/batches/", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["2", "0"], "name": "slashed"}
                """.formatted(EXAMPLES), "Content-Type", "application/json", "X-Requested-By", "airflow");
        int id = json(created, 201).get("id").asInt();
        assertThat(created.headers().firstValue("location")).contains("/batches/" + id);
        awaitFinal(id, "success");

        assertThat(json(replay("GET", "/batches/", null), 200).get("sessions").toString()).contains("\"id\":" + id);
        assertThat(json(replay("GET", "/batches/?from=0&size=-1", null), 200).get("total").asInt()).isPositive();
        assertThat(json(replay("GET", "/batches/" + id + "/", null), 200).get("name").asText()).isEqualTo("slashed");
        assertThat(json(replay("GET", "/batches/" + id + "/state/", null), 200).get("state").asText()).isEqualTo("success");
        assertThat(json(replay("GET", "/batches/" + id + "/log/?from=0&size=-1", null), 200).get("log").toString())
                .contains("line 0");
        assertThat(json(replay("GET", "/batches/slashed/", null), 200).get("id").asInt()).isEqualTo(id);
        assertThat(json(replay("GET", "//batches", null), 200).has("sessions")).isTrue();
        HttpResponse<String> unknown = replay("GET", "/batches/424242/", null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("msg").asText()).isEqualTo("Session '424242' not found.");
        // The rules hold on the other spelling too: CSRF protection wants its header.
        assertThat(replay("DELETE", "/batches/" + id + "/", null).statusCode()).isEqualTo(400);
        assertThat(json(replay("DELETE", "/batches/" + id + "/", null, "X-Requested-By", "airflow"), 200)
                .get("msg").asText()).isEqualTo("deleted");
    }

    @Test
    void appInfoHasLivysThreeKeys() throws Exception {
        HttpResponse<String> created = replay("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["1", "0"]}
                """.formatted(EXAMPLES), "Content-Type", "application/json", "X-Requested-By", "pylivy");
        JsonNode batch = json(created, 201);
        for (JsonNode b : List.of(batch, server.getJson("/batches/" + batch.get("id").asInt()))) {
            JsonNode appInfo = b.get("appInfo");
            assertThat(appInfo.has("driverLogUrl")).isTrue();
            assertThat(appInfo.has("sparkUiUrl")).isTrue();
            assertThat(appInfo.has("executorLogUrls")).as(appInfo.toString()).isTrue();
            assertThat(appInfo.get("executorLogUrls").isNull()).isTrue();
        }
        awaitFinal(batch.get("id").asInt(), "success");
    }

    /** A browser's EventSource: it must be told the stream ended, or it reconnects for ever. */
    @Test
    void eventsEndWithAnEndEventAndAReconnectAfterTheEndGetsTheFinalStateAndEndAtOnce() throws Exception {
        int id = create("events", "30", "100");
        SseClient.Stream live = SseClient.read(server.baseUrl() + "/batches/" + id + "/events",
                Map.of("Accept", "text/event-stream", "Cache-Control", "no-cache"));

        assertThat(live.status()).isEqualTo(200);
        assertThat(live.contentType()).startsWith("text/event-stream");
        SseClient.Event last = live.events().get(live.events().size() - 1);
        assertThat(last.event()).isEqualTo("end");
        assertThat(JSON.readTree(last.data())).isEqualTo(JSON.readTree("{\"state\": \"success\"}"));
        SseClient.Event finalState = live.events().get(live.events().size() - 2);
        assertThat(finalState.event()).isEqualTo("state");
        assertThat(JSON.readTree(finalState.data()).get("state").asText()).isEqualTo("success");

        SseClient.Stream again = SseClient.read(server.baseUrl() + "/batches/" + id + "/events",
                Map.of("Accept", "text/event-stream", "Cache-Control", "no-cache"));
        assertThat(again.events()).extracting(SseClient.Event::event).containsExactly("state", "end");
        assertThat(JSON.readTree(again.events().get(0).data()).get("state").asText()).isEqualTo("success");
        assertThat(JSON.readTree(again.events().get(1).data()).get("state").asText()).isEqualTo("success");
    }

    /** The embedded Spark has no Python side: a PySpark batch is refused saying what to set. */
    @Test
    void aPythonBatchOnTheEmbeddedSparkIsRefusedSayingToSetASparkDistribution() throws Exception {
        int before = server.getJson("/batches?size=-1").get("total").asInt();
        HttpResponse<String> pyFile = replay("POST", "/batches", """
                {"file": "%s", "args": ["10"]}
                """.formatted(PYTHON_DIR.resolve("pi.py")), "Content-Type", "application/json", "X-Requested-By", "airflow");
        HttpResponse<String> pyFiles = replay("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "pyFiles": ["%s"]}
                """.formatted(EXAMPLES, PYTHON_DIR.resolve("deps.py")), "Content-Type", "application/json",
                "X-Requested-By", "airflow");

        for (HttpResponse<String> res : List.of(pyFile, pyFiles)) {
            assertThat(res.statusCode()).as(res.body()).isEqualTo(400);
            assertThat(JSON.readTree(res.body()).get("msg").asText())
                    .contains("python/lib/pyspark.zip", "SPARK_HOME", "Spark distribution");
        }
        assertThat(server.getJson("/batches?size=-1").get("total").asInt()).isEqualTo(before);
    }

    private int create(String name, String... linesAndDelay) throws IOException {
        List<String> args = linesAndDelay.length == 0 ? List.of("2", "0") : List.of(linesAndDelay);
        HttpResponse<String> created = replay("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "name": "%s", "args": %s}
                """.formatted(EXAMPLES, name, JSON.writeValueAsString(args)),
                "Content-Type", "application/json", "X-Requested-By", "airflow");
        return json(created, 201).get("id").asInt();
    }

    /** One HTTP call exactly as given: method, path, headers (name, value, ...), body. */
    private HttpResponse<String> replay(String method, String path, String body, String... headers) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            req.header(headers[i], headers[i + 1]);
        }
        try {
            return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode json(HttpResponse<String> res, int status) throws IOException {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(status);
        return JSON.readTree(res.body());
    }

    private void awaitFinal(int id, String expected) {
        await().atMost(APP_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() ->
                List.of("success", "dead", "killed").contains(server.getJson("/batches/" + id + "/state").get("state").asText()));
        assertThat(server.getJson("/batches/" + id + "/state").get("state").asText())
                .as("batch %d: %s", id, server.getJson("/batches/" + id)).isEqualTo(expected);
    }

    private List<String> fullLog(int id) {
        List<String> out = new ArrayList<>();
        server.getJson("/batches/" + id + "/log?from=0&size=-1").get("log").forEach(l -> out.add(l.asText()));
        return out;
    }

    /** A directory the server may read, with a PySpark application and a Python dependency. */
    private static Path pythonDir() {
        try {
            Path dir = Files.createTempDirectory("sparkgate-python");
            Files.writeString(dir.resolve("pi.py"), "from pyspark.sql import SparkSession\nprint('pi')\n");
            Files.writeString(dir.resolve("deps.py"), "VALUE = 1\n");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
