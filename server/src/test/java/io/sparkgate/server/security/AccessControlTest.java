package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparkgate.api.v1.BatchServiceGrpc.BatchServiceBlockingStub;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.DeleteBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.WatchBatchRequest;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AccessSettings;
import io.sparkgate.server.config.AuthSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who may do what with whose batch, over REST, SSE and gRPC, with real users (basic auth) and real
 * Spark applications: owners, proxy users, a superuser who impersonates, a view user and a modify user.
 */
class AccessControlTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> USERS = List.of("alice", "bob", "carol", "viewer", "operator");
    private static final Path USERS_FILE = usersFile();

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.AUTH_MODE.name(), "basic",
            ConfigKeys.USERS_FILE.name(), USERS_FILE.toString(),
            ConfigKeys.IMPERSONATION.name(), "true",
            ConfigKeys.SUPERUSERS.name(), "carol",
            ConfigKeys.VIEW_USERS.name(), "viewer",
            ConfigKeys.MODIFY_USERS.name(), "operator"));

    private static final ClientFactory CLIENTS = ClientFactory.builder().build();

    @AfterAll
    static void closeClients() {
        CLIENTS.close();
    }

    @Test
    void aUserRunsAsThemselvesAndOthersSeeTheBatchButNotItsLog() throws Exception {
        // No proxyUser: with impersonation enabled the batch runs as its caller, as on Livy.
        AggregatedHttpResponse created = rest("alice", HttpMethod.POST, "/batches",
                "{\"file\":\"" + TestServer.EXAMPLES_JAR + "\",\"className\":\"io.sparkgate.examples.SparkPi\","
                + "\"args\":[\"2\"]}");
        assertThat(created.status().code()).as(created.contentUtf8()).isEqualTo(201);
        JsonNode batch = JSON.readTree(created.contentUtf8());
        int id = batch.get("id").asInt();
        assertThat(batch.get("owner").asText()).isEqualTo("alice");
        assertThat(batch.get("proxyUser").asText()).isEqualTo("alice");
        awaitState("alice", id, "success");
        assertThat(logOf("alice", id)).contains("Spark user: alice").anyMatch(l -> l.startsWith("Pi is roughly 3."));

        // bob sees that the batch exists and how it ended, not what it printed.
        JsonNode seenByBob = json(rest("bob", HttpMethod.GET, "/batches/" + id, null));
        assertThat(seenByBob.get("state").asText()).isEqualTo("success");
        assertThat(seenByBob.get("owner").asText()).isEqualTo("alice");
        assertThat(seenByBob.get("log")).isEmpty();
        JsonNode bobsList = json(rest("bob", HttpMethod.GET, "/batches", null));
        assertThat(bobsList.get("sessions")).anySatisfy(b -> {
            assertThat(b.get("id").asInt()).isEqualTo(id);
            assertThat(b.get("log")).isEmpty();
        });
        for (String path : List.of("/batches/" + id + "/log", "/batches/" + id + "/log/stream",
                                   "/batches/" + id + "/events")) {
            assertForbidden(rest("bob", HttpMethod.GET, path, null), "'bob' may not read batch " + id);
        }
        assertForbidden(rest("bob", HttpMethod.DELETE, "/batches/" + id, null), "'bob' may not delete batch " + id);
        BatchServiceBlockingStub bob = grpc("bob");
        assertPermissionDenied(() -> bob.getBatchLog(GetBatchLogRequest.newBuilder().setId(id).build()));
        assertPermissionDenied(() -> bob.streamBatchLog(StreamBatchLogRequest.newBuilder().setId(id).build()).hasNext());
        assertPermissionDenied(() -> bob.watchBatch(WatchBatchRequest.newBuilder().setId(id).build()).hasNext());
        assertPermissionDenied(() -> bob.deleteBatch(DeleteBatchRequest.newBuilder().setId(id).build()));
        assertThat(bob.getBatch(GetBatchRequest.newBuilder().setId(id).build()).getLogList()).isEmpty();

        // The view user reads everything, deletes nothing.
        assertThat(logOf("viewer", id)).contains("Spark user: alice");
        assertThat(grpc("viewer").getBatch(GetBatchRequest.newBuilder().setId(id).build()).getLogList()).isNotEmpty();
        assertForbidden(rest("viewer", HttpMethod.DELETE, "/batches/" + id, null), "may not delete batch " + id);
        assertThat(rest("alice", HttpMethod.GET, "/batches/" + id, null).status().code()).isEqualTo(200);
    }

    @Test
    void aSuperuserRunsABatchAsAnotherUserWhoMayThenReadAndDeleteIt() {
        io.sparkgate.api.v1.Batch created = grpc("carol").createBatch(CreateBatchRequest.newBuilder()
                .setFile(TestServer.EXAMPLES_JAR.toString())
                .setClassName("io.sparkgate.examples.SparkPi")
                .addArgs("2")
                .setProxyUser("bob")
                .build());
        int id = created.getId();
        assertThat(created.getOwner()).isEqualTo("carol");
        assertThat(created.getProxyUser()).isEqualTo("bob");
        awaitState("carol", id, "success");

        // The application ran as bob (spark-submit --proxy-user), and bob may read its log.
        assertThat(logOf("bob", id)).contains("Spark user: bob");
        assertForbidden(rest("alice", HttpMethod.GET, "/batches/" + id + "/log", null), "'alice' may not read");
        assertThat(rest("bob", HttpMethod.DELETE, "/batches/" + id, null).status().code()).isEqualTo(200);
        assertThat(rest("carol", HttpMethod.GET, "/batches/" + id, null).status().code()).isEqualTo(404);
    }

    @Test
    void impersonatingAnotherUserIsRefusedOnBothProtocolsAndLeavesNoBatch() throws Exception {
        int before = json(rest("carol", HttpMethod.GET, "/batches", null)).get("total").asInt();

        assertForbidden(rest("alice", HttpMethod.POST, "/batches", pi("bob")),
                "'alice' may not run batches as 'bob'");
        assertPermissionDenied(() -> grpc("viewer").createBatch(CreateBatchRequest.newBuilder()
                .setFile(TestServer.EXAMPLES_JAR.toString()).setProxyUser("alice").build()));

        assertThat(json(rest("carol", HttpMethod.GET, "/batches", null)).get("total").asInt()).isEqualTo(before);
    }

    @Test
    void aModifyUserKillsAnotherUsersRunningBatch() {
        AggregatedHttpResponse created = rest("alice", HttpMethod.POST, "/batches",
                "{\"file\":\"" + TestServer.EXAMPLES_JAR + "\",\"className\":\"io.sparkgate.examples.SleepingApp\","
                + "\"args\":[\"120\"]}");
        assertThat(created.status().code()).as(created.contentUtf8()).isEqualTo(201);
        int id = json(created).get("id").asInt();
        awaitState("alice", id, "running");

        assertForbidden(rest("bob", HttpMethod.DELETE, "/batches/" + id, null), "may not delete batch " + id);
        assertThat(rest("operator", HttpMethod.DELETE, "/batches/" + id, null).status().code()).isEqualTo(200);
        assertThat(rest("alice", HttpMethod.GET, "/batches/" + id, null).status().code()).isEqualTo(404);
    }

    private static String pi(String proxyUser) {
        return "{\"file\":\"" + TestServer.EXAMPLES_JAR + "\",\"className\":\"io.sparkgate.examples.SparkPi\","
               + "\"args\":[\"2\"],\"proxyUser\":\"" + proxyUser + "\"}";
    }

    private static void awaitState(String user, int id, String state) {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                assertThat(json(rest(user, HttpMethod.GET, "/batches/" + id + "/state", null)).get("state").asText())
                        .isEqualTo(state));
    }

    private static List<String> logOf(String user, int id) {
        AggregatedHttpResponse res = rest(user, HttpMethod.GET, "/batches/" + id + "/log?from=0&size=-1", null);
        assertThat(res.status().code()).as(res.contentUtf8()).isEqualTo(200);
        List<String> lines = new ArrayList<>();
        json(res).get("log").forEach(l -> lines.add(l.asText()));
        return lines;
    }

    private static void assertForbidden(AggregatedHttpResponse res, String message) {
        assertThat(res.status().code()).as(res.contentUtf8()).isEqualTo(403);
        assertThat(res.contentType()).isNotNull();
        assertThat(res.contentType().isJson()).isTrue();
        assertThat(json(res).get("msg").asText()).contains(message);
    }

    private static void assertPermissionDenied(Runnable call) {
        assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    private static AggregatedHttpResponse rest(String user, HttpMethod method, String path, String body) {
        RequestHeaders headers = RequestHeaders.builder(method, path).contentType(MediaType.JSON_UTF_8).build();
        var client = AuthMatrix.web(caller(user));
        return body == null ? client.execute(headers).aggregate().join()
                            : client.execute(headers, body).aggregate().join();
    }

    private static BatchServiceBlockingStub grpc(String user) {
        return AuthMatrix.stub(caller(user), GrpcSerializationFormats.PROTO);
    }

    private static AuthMatrix.Caller caller(String user) {
        return new AuthMatrix.Caller(server.baseUrl(), CLIENTS, BasicToken.of(user, user + "-secret").asHeaderValue());
    }

    private static JsonNode json(AggregatedHttpResponse res) {
        try {
            return JSON.readTree(res.contentUtf8());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path usersFile() {
        StringBuilder lines = new StringBuilder();
        for (String user : USERS) {
            lines.append(user).append(':').append(CredentialHashes.hashPassword(user + "-secret", 4)).append('\n');
        }
        try {
            Path dir = Files.createTempDirectory("sparkgate-access");
            return Files.writeString(dir.resolve("users"), lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
