package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.auth.BasicToken;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.BatchUpdate;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.WatchBatchesRequest;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AccessSettings;
import io.sparkgate.server.config.AuthSettings;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The list's Sparkgate extensions (filters by state, name and owner, newest first, the filtered total)
 * and the watch of all batches (WatchBatches over gRPC and {@code /watch/batches} over SSE), with real
 * users whose batches are hidden from each other and real applications through spark-submit.
 */
class BatchListAndWatchTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path USERS_FILE = usersFile("alice", "bob", "carol");

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.AUTH_MODE.name(), "basic",
            ConfigKeys.USERS_FILE.name(), USERS_FILE.toString(),
            ConfigKeys.OTHERS_BATCHES.name(), "hidden",
            ConfigKeys.SUPERUSERS.name(), "carol"));

    private static final ClientFactory CLIENTS = ClientFactory.builder().build();
    private static int etlA;
    private static int report;
    private static int etlB;

    @BeforeAll
    static void threeFinishedBatches() {
        etlA = create("alice", "etl-a", "io.sparkgate.examples.NumberedLines", "3");
        report = create("alice", "report", "io.sparkgate.examples.FailingApp");
        etlB = create("bob", "etl-b", "io.sparkgate.examples.NumberedLines", "3");
        awaitState("alice", etlA, "success");
        awaitState("alice", report, "dead");
        awaitState("bob", etlB, "success");
    }

    @AfterAll
    static void closeClients() {
        CLIENTS.close();
    }

    @Test
    void aListNarrowsByNameStateAndOwnerWithinWhatTheCallerMaySee() {
        // alice's own batches only (others' are hidden), and of those the ones named etl*.
        JsonNode etl = list("alice", "?name=etl");
        assertThat(ids(etl)).containsExactly(etlA);
        assertThat(etl.get("total").asInt()).isEqualTo(1);
        assertThat(ids(list("alice", "?state=dead"))).containsExactly(report);
        assertThat(ids(list("alice", "?state=success,dead"))).containsExactly(etlA, report);
        assertThat(ids(list("alice", "?state=success&state=dead"))).containsExactly(etlA, report);
        // The superuser sees everyone's and filters by owner.
        assertThat(ids(list("carol", "?name=etl"))).containsExactly(etlA, etlB);
        assertThat(ids(list("carol", "?owner=bob"))).containsExactly(etlB);
        assertThat(ids(list("carol", "?owner=alice&state=success"))).containsExactly(etlA);
        assertThat(ids(list("carol", "?name=nothing-has-this"))).isEmpty();
        // A LIKE wildcard in the name is a plain character.
        assertThat(ids(list("carol", "?name=etl%25"))).isEmpty();
    }

    @Test
    void newestFirstPagesReachTheOldestAndTheTotalCountsThemAll() {
        JsonNode first = list("carol", "?order=desc&size=2");
        assertThat(first.get("total").asInt()).isGreaterThanOrEqualTo(3);
        List<Integer> seen = new ArrayList<>(ids(first));
        for (int from = 2; from < first.get("total").asInt(); from += 2) {
            seen.addAll(ids(list("carol", "?order=desc&size=2&from=" + from)));
        }
        assertThat(seen).hasSize(first.get("total").asInt()).isSortedAccordingTo((a, b) -> b - a);
        assertThat(seen.get(seen.size() - 1)).isEqualTo(etlA);
        // Without the extensions the list is Livy's: ascending ids.
        assertThat(ids(list("carol", ""))).isSorted().contains(etlA, report, etlB);
    }

    @Test
    void badFilterValuesAreA400NamingTheParameter() {
        AggregatedHttpResponse badState = rest("alice", HttpMethod.GET, "/batches?state=finished", null);
        assertThat(badState.status().code()).isEqualTo(400);
        assertThat(json(badState).get("msg").asText()).contains("'state'").contains("finished");
        AggregatedHttpResponse badOrder = rest("alice", HttpMethod.GET, "/batches?order=sideways", null);
        assertThat(badOrder.status().code()).isEqualTo(400);
        assertThat(json(badOrder).get("msg").asText()).contains("'order'");
    }

    @Test
    void theBatchPageGetsTheRequestOnlyWhenTheCallerMayReadTheBatch() {
        JsonNode own = json(rest("alice", HttpMethod.GET, "/batches/" + etlA, null));
        assertThat(own.get("request").get("className").asText()).isEqualTo("io.sparkgate.examples.NumberedLines");
        assertThat(own.get("request").get("args")).extracting(JsonNode::asText).containsExactly("3");
        JsonNode listed = list("alice", "").get("sessions").get(0);
        assertThat(listed.get("request").isNull()).isTrue();
        // carol is a superuser: she may read it.
        assertThat(AuthMatrix.stub(caller("carol"), GrpcSerializationFormats.PROTO)
                .getBatch(GetBatchRequest.newBuilder().setId(etlA).build()).getRequest().getName()).isEqualTo("etl-a");
    }

    @Test
    void theWholeLogDownloadsAsTextToThoseWhoMayReadIt() {
        AggregatedHttpResponse text = rest("alice", HttpMethod.GET, "/batches/" + etlA + "/log/text", null);
        assertThat(text.status().code()).isEqualTo(200);
        assertThat(text.contentType().toString()).startsWith("text/plain");
        assertThat(text.headers().get("content-disposition")).contains("batch-" + etlA + ".log");
        List<String> lines = new ArrayList<>();
        json(rest("alice", HttpMethod.GET, "/batches/" + etlA + "/log?from=0&size=-1", null)).get("log")
                .forEach(l -> lines.add(l.asText()));
        assertThat(lines).contains("line 0", "line 2");
        assertThat(text.contentUtf8()).isEqualTo(String.join("\n", lines) + "\n");
        // bob may not see alice's batch at all (others' batches are hidden here).
        assertThat(rest("bob", HttpMethod.GET, "/batches/" + etlA + "/log/text", null).status().code()).isEqualTo(404);
        assertThat(rest("carol", HttpMethod.GET, "/batches/" + etlA + "/log/text", null).status().code()).isEqualTo(200);
    }

    @Test
    void aWatcherSeesItsNewBatchThroughToSuccessAndNoOneElses() throws Exception {
        List<JsonNode> bobsEvents = new CopyOnWriteArrayList<>();
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest watch = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/watch/batches"))
                .header("Authorization", BasicToken.of("bob", "bob-secret").asHeaderValue()).build();
        HttpResponse<Stream<String>> sse = http.send(watch, HttpResponse.BodyHandlers.ofLines());
        assertThat(sse.statusCode()).isEqualTo(200);
        assertThat(sse.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("text/event-stream"));
        Thread reader = new Thread(() -> sse.body().filter(l -> l.startsWith("data: "))
                .forEach(l -> bobsEvents.add(parse(l.substring(6)))));
        reader.setDaemon(true);
        reader.start();
        // gRPC: alice's watch.
        Iterator<BatchUpdate> alicesWatch = AuthMatrix.stub(caller("alice"), GrpcSerializationFormats.PROTO)
                .withDeadlineAfter(2, TimeUnit.MINUTES)
                .watchBatches(WatchBatchesRequest.getDefaultInstance());

        int alices = create("alice", "watched-a", "io.sparkgate.examples.NumberedLines", "2");
        int bobs = create("bob", "watched-b", "io.sparkgate.examples.NumberedLines", "2");

        List<BatchState> alicesStates = new ArrayList<>();
        while (!alicesStates.contains(BatchState.BATCH_STATE_SUCCESS)) {
            BatchUpdate update = alicesWatch.next();
            assertThat(update.getBatch().getOwner()).isEqualTo("alice");
            if (update.getBatch().getId() == alices) {
                alicesStates.add(update.getBatch().getState());
            }
        }
        assertThat(alicesStates.get(0)).isIn(BatchState.BATCH_STATE_STARTING, BatchState.BATCH_STATE_RUNNING);

        await().atMost(Duration.ofMinutes(2)).until(() -> bobsEvents.stream()
                .anyMatch(e -> e.get("id").asInt() == bobs && e.get("state").asText().equals("success")));
        assertThat(bobsEvents).allSatisfy(e -> {
            assertThat(e.get("owner").asText()).isEqualTo("bob");
            assertThat(e.get("id").asInt()).isNotEqualTo(alices);
        });
        JsonNode last = bobsEvents.get(bobsEvents.size() - 1);
        assertThat(last.get("stateHistory")).extracting(h -> h.get("state").asText()).contains("running", "success");
        assertThat(last.get("name").asText()).isEqualTo("watched-b");
        sse.body().close();
    }

    private static int create(String user, String name, String className, String... args) {
        StringBuilder body = new StringBuilder("{\"file\":\"" + TestServer.EXAMPLES_JAR + "\",\"className\":\""
                + className + "\",\"name\":\"" + name + "\",\"args\":[");
        for (int i = 0; i < args.length; i++) {
            body.append(i == 0 ? "" : ",").append('"').append(args[i]).append('"');
        }
        AggregatedHttpResponse res = rest(user, HttpMethod.POST, "/batches", body.append("]}").toString());
        assertThat(res.status().code()).as(res.contentUtf8()).isEqualTo(201);
        return json(res).get("id").asInt();
    }

    private static JsonNode list(String user, String query) {
        AggregatedHttpResponse res = rest(user, HttpMethod.GET, "/batches" + query, null);
        assertThat(res.status().code()).as(res.contentUtf8()).isEqualTo(200);
        return json(res);
    }

    private static List<Integer> ids(JsonNode page) {
        List<Integer> ids = new ArrayList<>();
        page.get("sessions").forEach(b -> ids.add(b.get("id").asInt()));
        return ids;
    }

    private static void awaitState(String user, int id, String state) {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                assertThat(json(rest(user, HttpMethod.GET, "/batches/" + id + "/state", null)).get("state").asText())
                        .isEqualTo(state));
    }

    private static AggregatedHttpResponse rest(String user, HttpMethod method, String path, String body) {
        RequestHeaders headers = RequestHeaders.builder(method, path).contentType(MediaType.JSON_UTF_8).build();
        var client = AuthMatrix.web(caller(user));
        return body == null ? client.execute(headers).aggregate().join()
                            : client.execute(headers, body).aggregate().join();
    }

    private static AuthMatrix.Caller caller(String user) {
        return new AuthMatrix.Caller(server.baseUrl(), CLIENTS, BasicToken.of(user, user + "-secret").asHeaderValue());
    }

    private static JsonNode json(AggregatedHttpResponse res) {
        return parse(res.contentUtf8());
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path usersFile(String... users) {
        StringBuilder lines = new StringBuilder();
        for (String user : users) {
            lines.append(user).append(':').append(CredentialHashes.hashPassword(user + "-secret", 4)).append('\n');
        }
        try {
            Path dir = Files.createTempDirectory("sparkgate-users");
            return Files.writeString(dir.resolve("users"), lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
