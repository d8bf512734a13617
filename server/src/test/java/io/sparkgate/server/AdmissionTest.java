package io.sparkgate.server;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparkgate.api.v1.BatchServiceGrpc.BatchServiceBlockingStub;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.config.AdmissionSettings;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission limits with real Spark: batches over a limit wait as {@code not_started}, saying what they
 * wait for, and start in order as places free up; past the waiting cap a create is refused and nothing
 * is recorded; a restart keeps the waiting batches waiting and counts the running ones.
 */
class AdmissionTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration APP_TIMEOUT = Duration.ofMinutes(2);
    private static final List<String> FINAL = List.of("success", "dead", "killed");

    @TempDir
    Path tmp;

    private final List<TestServer> servers = new ArrayList<>();

    @AfterEach
    void stopServers() {
        for (TestServer s : servers) {
            try {
                // A batch left running would outlive the test.
                JsonNode list = s.getJson("/batches?size=1000");
                list.get("sessions").forEach(b -> s.call("DELETE", "/batches/" + b.get("id").asInt(), null));
            } catch (RuntimeException | AssertionError e) {
                // already stopped
            }
            s.close();
        }
    }

    private TestServer start(Path dataDir, Map<String, String> config) {
        TestServer server = TestServer.start(dataDir, config);
        servers.add(server);
        return server;
    }

    @Test
    void overTheRunningLimitBatchesWaitAndStartInOrderAndPastTheWaitingCapNothingIsRecorded() throws Exception {
        TestServer server = start(tmp.resolve("data"), Map.of(
                ConfigKeys.MAX_RUNNING.name(), "1",
                ConfigKeys.MAX_WAITING.name(), "2",
                ConfigKeys.RETRY_AFTER.name(), "7s"));
        int first = createOverRest(server, 60);
        int second = createOverRest(server, 1);
        int third = createOverRest(server, 60);

        awaitState(server, first, "running");
        for (int waiting : List.of(second, third)) {
            JsonNode batch = server.getJson("/batches/" + waiting);
            assertThat(batch.get("state").asText()).isEqualTo("not_started");
            assertThat(lastReason(batch)).isEqualTo("submitted; waiting: 1 batch running (limit 1)");
        }

        HttpResponse<String> refused = server.call("POST", "/batches", sleeping(1));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).contains("7");
        assertThat(JSON.readTree(refused.body()).get("msg").asText()).contains("too many batches are waiting");
        BatchServiceBlockingStub grpc = GrpcClients.newClient(server.baseUrl(), BatchServiceBlockingStub.class);
        StatusRuntimeException overGrpc = catchThrowableOfType(StatusRuntimeException.class, () -> grpc.createBatch(
                CreateBatchRequest.newBuilder().setFile(TestServer.EXAMPLES_JAR.toString())
                        .setClassName("io.sparkgate.examples.SleepingApp").addArgs("1").build()));
        assertThat(overGrpc.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Status.trailersFromThrowable(overGrpc)
                .get(Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("7");
        assertThat(server.getJson("/batches").get("total").asInt()).as("refused creates record nothing").isEqualTo(3);

        assertThat(server.call("DELETE", "/batches/" + first, null).statusCode()).isEqualTo(200);
        awaitState(server, second, "running");
        assertThat(state(server, third)).isEqualTo("not_started");
        awaitState(server, second, "success"); // its exit frees its place too
        awaitState(server, third, "running");
        assertThat(entered(server, third, "starting")).as("the third starts after the second ended")
                .isAfterOrEqualTo(entered(server, second, "success"));
    }

    @Test
    void aUserAtTheirRunningLimitWaitsWhileAnotherUsersBatchStarts() {
        TestServer server = start(tmp.resolve("data"), Map.of(ConfigKeys.MAX_RUNNING_PER_USER.name(), "1"));
        var manager = server.server().manager();
        int alice1 = manager.create(sleepingRequest(60), "alice", "").batch().id();
        int alice2 = manager.create(sleepingRequest(60), "alice", "").batch().id();
        int bob1 = manager.create(sleepingRequest(60), "bob", "").batch().id();

        JsonNode waiting = server.getJson("/batches/" + alice2);
        assertThat(waiting.get("state").asText()).isEqualTo("not_started");
        assertThat(waiting.get("owner").asText()).isEqualTo("alice");
        assertThat(lastReason(waiting)).isEqualTo("submitted; waiting: user alice has 1 batch running (limit 1)");
        awaitState(server, bob1, "running");
        assertThat(state(server, alice1)).isEqualTo("running");
        assertThat(state(server, alice2)).isEqualTo("not_started");

        manager.delete(bob1, "bob");
        // The place bob's batch freed is taken by bob's next one; once it runs, the queue has been through
        // alice's waiting batch and left it waiting: bob's batch held none of alice's places.
        int bob2 = manager.create(sleepingRequest(60), "bob", "").batch().id();
        awaitState(server, bob2, "running");
        assertThat(state(server, alice2)).as("bob's batch held none of alice's places").isEqualTo("not_started");
        manager.delete(alice1, "alice");
        awaitState(server, alice2, "running");
    }

    @Test
    void afterARestartReattachedBatchesCountAndWaitingBatchesStillWaitThenStartInOrder() throws Exception {
        Path dataDir = tmp.resolve("data");
        Map<String, String> config = Map.of(ConfigKeys.MAX_RUNNING.name(), "1");
        TestServer before = start(dataDir, config);
        int running = createOverRest(before, 60);
        int second = createOverRest(before, 60);
        int third = createOverRest(before, 60);
        awaitState(before, running, "running");
        // The driver's pid is what the next server finds it by.
        await().atMost(APP_TIMEOUT).until(() -> Files.exists(dataDir.resolve("batches").resolve(running + "").resolve("pid")));
        servers.remove(before);
        before.close(); // its driver keeps running

        TestServer after = start(dataDir, config);
        assertThat(state(after, running)).isEqualTo("running");
        assertThat(state(after, second)).isEqualTo("not_started");
        assertThat(state(after, third)).isEqualTo("not_started");

        assertThat(after.call("DELETE", "/batches/" + running, null).statusCode()).isEqualTo(200);
        awaitState(after, second, "running");
        assertThat(state(after, third)).isEqualTo("not_started");
        assertThat(after.call("DELETE", "/batches/" + second, null).statusCode()).isEqualTo(200);
        awaitState(after, third, "running");
    }

    private static BatchRequest sleepingRequest(int seconds) {
        return BatchRequest.of(TestServer.EXAMPLES_JAR.toString())
                .withClassName("io.sparkgate.examples.SleepingApp")
                .withArgs(List.of(Integer.toString(seconds)));
    }

    private static String sleeping(int seconds) {
        return """
                {"file": "%s", "className": "io.sparkgate.examples.SleepingApp", "args": ["%d"]}
                """.formatted(TestServer.EXAMPLES_JAR, seconds);
    }

    private static int createOverRest(TestServer server, int seconds) throws Exception {
        HttpResponse<String> created = server.call("POST", "/batches", sleeping(seconds));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("id").asInt();
    }

    private static String state(TestServer server, int id) {
        return server.getJson("/batches/" + id + "/state").get("state").asText();
    }

    /** Waits for {@code expected}; fails at once if the batch ends otherwise. */
    private static void awaitState(TestServer server, int id, String expected) {
        await().atMost(APP_TIMEOUT).until(() -> {
            String now = state(server, id);
            if (FINAL.contains(now) && !now.equals(expected)) {
                throw new AssertionError("batch " + id + " ended " + now + ": " + server.getJson("/batches/" + id));
            }
            return now.equals(expected);
        });
    }

    private static String lastReason(JsonNode batch) {
        JsonNode history = batch.get("stateHistory");
        return history.get(history.size() - 1).get("reason").asText();
    }

    /** When the batch last entered {@code state}. */
    private static Instant entered(TestServer server, int id, String state) {
        Instant when = null;
        for (JsonNode change : server.getJson("/batches/" + id).get("stateHistory")) {
            if (change.get("state").asText().equals(state)) {
                when = Instant.parse(change.get("time").asText());
            }
        }
        assertThat(when).as("batch %d was %s", id, state).isNotNull();
        return when;
    }
}
