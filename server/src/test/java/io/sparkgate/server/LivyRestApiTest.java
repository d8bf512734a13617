package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Livy's batch REST API as Airflow, pylivy and curl use it, against real Spark applications. */
class LivyRestApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SPARK_APP_TIMEOUT = Duration.ofMinutes(3);
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();

    @RegisterExtension
    static final TestServer server = new TestServer();


    @Test
    void piSucceedsWithLivysBatchObjectAndItsResultInTheLog() throws Exception {
        HttpResponse<String> created = post("""
                {"file": "%s", "className": "io.sparkgate.examples.SparkPi", "args": ["4"], "name": "pi"}
                """.formatted(EXAMPLES));

        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.headers().firstValue("content-type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        JsonNode batch = JSON.readTree(created.body());
        int id = batch.get("id").asInt();
        assertThat(batch.get("id").isInt()).isTrue();
        assertThat(created.headers().firstValue("location")).contains("/batches/" + id);
        assertThat(fieldNames(batch)).startsWith("id", "name", "owner", "proxyUser", "state", "appId", "appInfo", "log");
        assertThat(batch.get("name").asText()).isEqualTo("pi");
        assertThat(batch.get("owner").isNull()).isTrue();
        assertThat(batch.get("proxyUser").isNull()).isTrue();
        assertThat(batch.get("state").asText()).isIn("not_started", "starting");
        assertThat(batch.get("appInfo").has("driverLogUrl")).isTrue();
        assertThat(batch.get("appInfo").has("sparkUiUrl")).isTrue();
        assertThat(batch.get("log").isArray()).isTrue();

        String finalState = awaitFinalState(id);

        assertThat(finalState).isEqualTo("success");
        JsonNode done = server.getJson("/batches/" + id);
        assertThat(done.get("appId").asText()).startsWith("local-");
        assertThat(fullLog(id)).anySatisfy(line -> assertThat(line).startsWith("Pi is roughly 3."));
        assertThat(server.getJson("/batches/" + id + "/state").toString())
                .isEqualTo("{\"id\":" + id + ",\"state\":\"success\"}");
    }

    @Test
    void failingAppEndsDeadWithItsExceptionInTheLog() throws Exception {
        int id = create("""
                {"file": "%s", "className": "io.sparkgate.examples.FailingApp"}
                """.formatted(EXAMPLES));

        assertThat(awaitFinalState(id)).isEqualTo("dead");
        assertThat(fullLog(id)).anySatisfy(line ->
                assertThat(line).contains("IllegalStateException: Sparkgate example failure"));
    }

    @Test
    void runningBatchIsKilledAndRemovedByDelete() throws Exception {
        String token = "sleeper-" + UUID.randomUUID();
        int id = create("""
                {"file": "%s", "className": "io.sparkgate.examples.SleepingApp", "args": ["300", "%s"]}
                """.formatted(EXAMPLES, token));
        await().atMost(SPARK_APP_TIMEOUT).untilAsserted(() ->
                assertThat(fullLog(id)).anySatisfy(line -> assertThat(line).startsWith("tick")));
        assertThat(driverProcesses(token)).isNotEmpty();

        HttpResponse<String> deleted = server.call("DELETE", "/batches/" + id, null);

        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(deleted.body()).get("msg").asText()).isEqualTo("deleted");
        HttpResponse<String> gone = server.get("/batches/" + id);
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(gone.body()).get("msg").asText()).isEqualTo("Session '" + id + "' not found.");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(driverProcesses(token)).isEmpty());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(server.dataDir().resolve("batches").resolve(Integer.toString(id))).doesNotExist());
    }

    @Test
    void logPagesAreExactSlicesWithLivysDefaults() throws Exception {
        int id = create("""
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["250"]}
                """.formatted(EXAMPLES));
        assertThat(awaitFinalState(id)).isEqualTo("success");
        List<String> all = fullLog(id);
        int total = all.size();
        int first = all.indexOf("line 0");
        assertThat(first).isGreaterThanOrEqualTo(0);
        assertThat(all.subList(first, first + 250)).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 250).mapToObj(i -> "line " + i).toList());

        JsonNode slice = server.getJson("/batches/" + id + "/log?from=" + (first + 10) + "&size=5");
        assertThat(lines(slice)).containsExactly("line 10", "line 11", "line 12", "line 13", "line 14");
        assertThat(slice.get("from").asInt()).isEqualTo(first + 10);
        assertThat(slice.get("size").asInt()).isEqualTo(5);
        assertThat(slice.get("total").asInt()).isEqualTo(total);
        assertThat(slice.get("id").asInt()).isEqualTo(id);

        JsonNode tail = server.getJson("/batches/" + id + "/log");
        assertThat(tail.get("from").asInt()).isEqualTo(total - 100);
        assertThat(lines(tail)).containsExactlyElementsOf(all.subList(total - 100, total));

        JsonNode negativeFrom = server.getJson("/batches/" + id + "/log?from=-1&size=3");
        assertThat(lines(negativeFrom)).containsExactlyElementsOf(all.subList(total - 3, total));

        JsonNode everything = server.getJson("/batches/" + id + "/log?size=-1");
        assertThat(everything.get("from").asInt()).isZero();
        assertThat(lines(everything)).containsExactlyElementsOf(all);

        JsonNode pastEnd = server.getJson("/batches/" + id + "/log?from=" + (total + 5) + "&size=10");
        assertThat(lines(pastEnd)).isEmpty();
        assertThat(pastEnd.get("size").asInt()).isZero();
        assertThat(pastEnd.get("total").asInt()).isEqualTo(total);

        JsonNode batch = server.getJson("/batches/" + id);
        assertThat(lines(batch)).containsExactlyElementsOf(all.subList(total - 10, total));
    }

    @Test
    void listPagesInAscendingIdOrder() throws Exception {
        int a = create(numberedLines(1));
        int b = create(numberedLines(1));
        int c = create(numberedLines(1));

        JsonNode all = server.getJson("/batches");
        assertThat(all.get("from").asInt()).isZero();
        assertThat(all.get("total").asInt()).isEqualTo(all.get("sessions").size());
        List<Integer> ids = new ArrayList<>();
        all.get("sessions").forEach(s -> ids.add(s.get("id").asInt()));
        assertThat(ids).isSorted().contains(a, b, c);

        int indexOfB = ids.indexOf(b);
        JsonNode page = server.getJson("/batches?from=" + indexOfB + "&size=2");
        assertThat(page.get("from").asInt()).isEqualTo(indexOfB);
        assertThat(page.get("sessions")).hasSize(2);
        assertThat(page.get("sessions").get(0).get("id").asInt()).isEqualTo(b);
        assertThat(page.get("sessions").get(1).get("id").asInt()).isEqualTo(c);
        for (int id : List.of(a, b, c)) {
            awaitFinalState(id);
        }
    }

    @Test
    void numbersAsStringsAndStringsAsNumbersAreAccepted() throws Exception {
        HttpResponse<String> created = post("""
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines",
                 "args": [3], "numExecutors": "1", "driverCores": "1", "conf": {"spark.sparkgate.n": 0}}
                """.formatted(EXAMPLES));

        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        int id = JSON.readTree(created.body()).get("id").asInt();
        assertThat(awaitFinalState(id)).isEqualTo("success");
        assertThat(fullLog(id)).contains("line 0", "line 1", "line 2").doesNotContain("line 3");
    }

    @Test
    void badRequestsGetA400WithAMessageAndLeaveNoBatch() throws Exception {
        int before = server.getJson("/batches?size=0").get("total").asInt();

        assertError(post("{\"className\": \"x.Y\"}"), 400, "file");
        assertError(post("{\"file\": \"a.jar\", \"bogusField\": 1}"), 400, "bogusField");
        assertError(post("{\"file\": \"a.jar\", "), 400, "");
        assertError(post("not json at all"), 400, "");
        assertError(post("{\"file\": \"a.jar\", \"numExecutors\": \"ten\"}"), 400, "");
        assertError(post("{\"file\": \"a.jar\", \"numExecutors\": 0}"), 400, "numExecutors");
        assertError(post("{\"file\": \"a.jar\", \"args\": {\"a\": 1}}"), 400, "");
        assertError(post("{\"file\": \"a.jar\", \"conf\": {\"spark.master\": \"yarn\"}}"), 400, "spark.master");

        assertThat(server.getJson("/batches?size=0").get("total").asInt()).isEqualTo(before);
    }

    @Test
    void unknownOrMalformedIdsAndPathsGetJsonErrors() throws Exception {
        assertError(server.get("/batches/987654"), 404, "Session '987654' not found.");
        assertError(server.get("/batches/987654/state"), 404, "Session '987654' not found.");
        assertError(server.get("/batches/987654/log"), 404, "Session '987654' not found.");
        assertError(server.call("DELETE", "/batches/987654", null), 404, "Session '987654' not found.");
        // As on Livy, a segment that is no number is a batch name (LivyDropInTest looks batches up by name).
        assertError(server.get("/batches/abc"), 404, "Session 'abc' not found.");
        assertError(server.get("/batches/0/log?from=abc"), 400, "");
        assertError(server.get("/batches?from=-1"), 400, "from");
        assertError(server.get("/no/such/path"), 404, "");
        assertError(server.call("PUT", "/batches", "{}"), 405, "");
    }

    private static void assertError(HttpResponse<String> response, int status, String messagePart) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("msg").isTextual()).as(response.body()).isTrue();
        assertThat(body.get("msg").asText()).isNotBlank().contains(messagePart);
    }

    private static String numberedLines(int n) {
        return """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["%d"]}
                """.formatted(EXAMPLES, n);
    }

    private static HttpResponse<String> post(String body) {
        return server.call("POST", "/batches", body);
    }

    private static int create(String body) throws Exception {
        HttpResponse<String> created = post(body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("id").asInt();
    }


    private static String awaitFinalState(int id) {
        String[] state = new String[1];
        await().atMost(SPARK_APP_TIMEOUT).pollInterval(Duration.ofMillis(250)).until(() -> {
            state[0] = server.getJson("/batches/" + id + "/state").get("state").asText();
            return List.of("success", "dead", "killed").contains(state[0]);
        });
        return state[0];
    }

    private static List<String> fullLog(int id) throws Exception {
        return lines(server.getJson("/batches/" + id + "/log?from=0&size=-1"));
    }

    private static List<String> lines(JsonNode node) {
        List<String> out = new ArrayList<>();
        node.get("log").forEach(l -> out.add(l.asText()));
        return out;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static List<ProcessHandle> driverProcesses(String token) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(args -> List.of(args).contains(token)).orElse(false))
                .toList();
    }
}
