package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import io.grpc.Status;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.client.SparkgateClient;
import io.sparkgate.client.SparkgateException;

/** A client that retries a create with its request id gets the batch it created, and one application runs. */
class IdempotentCreateTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();

    @RegisterExtension
    static final TestServer server = new TestServer();


    @Test
    void twentyConcurrentIdenticalCreatesRecordAndLaunchOneBatch() throws Exception {
        String requestId = "airflow/dag/task/" + UUID.randomUUID();
        String body = """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["3"], "requestId": "%s"}
                """.formatted(EXAMPLES, requestId);
        int before = total();

        List<HttpResponse<String>> responses = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(20);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                calls.add(clients.submit(() -> {
                    go.await();
                    return server.call("POST", "/batches", body);
                }));
            }
            go.countDown();
            for (Future<HttpResponse<String>> call : calls) {
                responses.add(call.get());
            }
        } finally {
            clients.shutdownNow();
        }

        assertThat(responses).extracting(HttpResponse::statusCode).containsOnly(200, 201);
        assertThat(responses).filteredOn(r -> r.statusCode() == 201).hasSize(1);
        List<Integer> ids = new ArrayList<>();
        for (HttpResponse<String> r : responses) {
            ids.add(JSON.readTree(r.body()).get("id").asInt());
            assertThat(r.headers().firstValue("location")).contains("/batches/" + ids.get(ids.size() - 1));
        }
        assertThat(ids).containsOnly(ids.get(0));
        int id = ids.get(0);
        assertThat(total()).isEqualTo(before + 1);

        await().atMost(Duration.ofMinutes(2)).until(() -> state(id).equals("success"));
        List<String> log = new ArrayList<>();
        server.getJson("/batches/" + id + "/log?from=0&size=-1").get("log").forEach(l -> log.add(l.asText()));
        // One application: its output once.
        assertThat(log).filteredOn("line 0"::equals).hasSize(1);

        // A retry after the batch finished still gets the same batch.
        HttpResponse<String> late = server.call("POST", "/batches", body);
        assertThat(late.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(late.body()).get("id").asInt()).isEqualTo(id);
        assertThat(JSON.readTree(late.body()).get("state").asText()).isEqualTo("success");
    }

    @Test
    void theSameRequestIdWithAnotherRequestIsAConflict() throws Exception {
        String requestId = UUID.randomUUID().toString();
        HttpResponse<String> first = server.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["1"], "requestId": "%s"}
                """.formatted(EXAMPLES, requestId));
        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        int before = total();

        HttpResponse<String> other = server.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["2"], "requestId": "%s"}
                """.formatted(EXAMPLES, requestId));

        assertThat(other.statusCode()).as(other.body()).isEqualTo(409);
        assertThat(other.headers().firstValue("content-type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        assertThat(JSON.readTree(other.body()).get("msg").asText()).contains(requestId).contains("different request");
        assertThat(total()).isEqualTo(before);
        int id = JSON.readTree(first.body()).get("id").asInt();

        // Over gRPC: the same request again is the same batch; another request is ALREADY_EXISTS.
        try (SparkgateClient client = SparkgateClient.connect("127.0.0.1:" + server.port())) {
            CreateBatchRequest same = CreateBatchRequest.newBuilder().setFile(EXAMPLES)
                    .setClassName("io.sparkgate.examples.NumberedLines").addArgs("1").setRequestId(requestId).build();
            assertThat(client.submit(same).getId()).isEqualTo(id);
            assertThatThrownBy(() -> client.submit(same.toBuilder().setArgs(0, "2").build()))
                    .isInstanceOfSatisfying(SparkgateException.class, e -> {
                        assertThat(e.status().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
                        assertThat(e.status().getDescription()).contains(requestId);
                    });
        }
        assertThat(total()).isEqualTo(before);
        await().atMost(Duration.ofMinutes(2)).until(() -> state(id).equals("success"));
    }

    private static int total() throws Exception {
        return server.getJson("/batches?size=0").get("total").asInt();
    }

    private static String state(int id) throws Exception {
        return server.getJson("/batches/" + id + "/state").get("state").asText();
    }

}
