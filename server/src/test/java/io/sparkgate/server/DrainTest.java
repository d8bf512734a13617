package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.StreamBatchLogResponse;
import io.sparkgate.server.config.OpsSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.SubmissionPublisher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What clients see when an orchestrator stops a server (SIGTERM: {@code drainAndClose}) while a real
 * Spark application runs and is followed over gRPC and SSE: not ready first, then refused with a retry
 * hint, streams ended so that they resume elsewhere; the application keeps running and the next server
 * picks it up.
 */
class DrainTest {

    private static final Map<String, String> DRAIN = Map.of(
            ConfigKeys.DRAIN_GRACE.name(), "2s",
            ConfigKeys.DRAIN_TIMEOUT.name(), "30s");

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dataDir;

    @Test
    void notReadyThenRefusedWithARetryHintStreamsEndAndTheBatchRunsOn() throws Exception {
        TestServer server = TestServer.start(dataDir, DRAIN);
        CompletableFuture<Void> drained = null;
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
            BatchServiceGrpc.BatchServiceBlockingStub grpc = BatchServiceGrpc.newBlockingStub(channel);
            Batch batch = grpc.createBatch(CreateBatchRequest.newBuilder()
                    .setFile(TestServer.EXAMPLES_JAR.toString())
                    .setClassName("io.sparkgate.examples.SleepingApp").addArgs("300").build());
            int id = batch.getId();
            await().atMost(Duration.ofMinutes(2)).until(() ->
                    grpc.getBatch(GetBatchRequest.newBuilder().setId(id).build()).getState()
                            == BatchState.BATCH_STATE_RUNNING);

            // Followers on both transports.
            CompletableFuture<SseClient.Stream> sse = CompletableFuture.supplyAsync(() -> {
                try {
                    return SseClient.read(server.baseUrl() + "/batches/" + id + "/log/stream", Map.of());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            CompletableFuture<Status> grpcStreamEnd = new CompletableFuture<>();
            AtomicInteger grpcLines = new AtomicInteger();
            BatchServiceGrpc.newStub(channel).streamBatchLog(StreamBatchLogRequest.newBuilder().setId(id).build(),
                    new StreamObserver<>() {
                        @Override
                        public void onNext(StreamBatchLogResponse value) {
                            grpcLines.incrementAndGet();
                        }

                        @Override
                        public void onError(Throwable t) {
                            grpcStreamEnd.complete(Status.fromThrowable(t));
                        }

                        @Override
                        public void onCompleted() {
                            grpcStreamEnd.complete(Status.OK);
                        }
                    });
            await().atMost(Duration.ofSeconds(30)).until(() -> grpcLines.get() > 0
                    && server.server().manager().followers(id) == 2);

            // A create in flight when the drain begins: its body is still on its way. Its app opens a
            // SparkContext, which connects back to the server that launched it a few seconds after its
            // launch, that is, while this server stops.
            byte[] create = ("{\"file\": \"" + TestServer.EXAMPLES_JAR + "\", \"className\": "
                    + "\"io.sparkgate.examples.SparkPi\", \"args\": [\"1\"]}").getBytes(StandardCharsets.UTF_8);
            SubmissionPublisher<ByteBuffer> body = new SubmissionPublisher<>();
            CompletableFuture<HttpResponse<String>> inFlight = HTTP.sendAsync(
                    HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.fromPublisher(body, create.length)).build(),
                    HttpResponse.BodyHandlers.ofString());
            // A SubmissionPublisher drops what it is given before the client subscribed.
            await().atMost(Duration.ofSeconds(30)).until(() -> body.getNumberOfSubscribers() > 0);
            body.submit(ByteBuffer.wrap(create, 0, 10));
            await().atMost(Duration.ofSeconds(30)).until(() -> server.get("/metrics").body().lines()
                    // the two streams and the create
                    .anyMatch(l -> l.equals("sparkgate_requests_in_flight 3.0")));

            drained = CompletableFuture.runAsync(() -> server.server().drainAndClose());

            // First: not ready, while everything else is still served (the grace).
            await().atMost(Duration.ofSeconds(5)).until(() -> server.get("/readyz").statusCode() == 503);
            assertThat(server.get("/batches/" + id).statusCode()).isEqualTo(200);
            assertThat(server.get("/healthz").statusCode()).isEqualTo(200);

            // Then: new calls refused with a retry hint, on REST and gRPC.
            await().atMost(Duration.ofSeconds(30)).until(() -> server.get("/batches/" + id).statusCode() == 503);
            HttpResponse<String> refused = server.get("/batches/" + id);
            assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
            assertThat(refused.body()).contains("\"msg\"").contains("shutting down");
            StatusRuntimeException unavailable = org.assertj.core.api.Assertions.catchThrowableOfType(
                    () -> grpc.getBatch(GetBatchRequest.newBuilder().setId(id).build()), StatusRuntimeException.class);
            assertThat(unavailable.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

            // The call in flight finishes normally: its batch is created.
            body.submit(ByteBuffer.wrap(create, 10, create.length - 10));
            body.close();
            HttpResponse<String> created = inFlight.get(30, TimeUnit.SECONDS);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);

            // Open streams end so that their clients resume elsewhere: UNAVAILABLE, and an SSE close
            // without an end event (an EventSource reconnects with its Last-Event-ID).
            assertThat(grpcStreamEnd.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            SseClient.Stream stream = sse.get(30, TimeUnit.SECONDS);
            assertThat(stream.status()).isEqualTo(200);
            assertThat(stream.messages()).isNotEmpty();
            assertThat(stream.events()).noneMatch(e -> e.event().equals("end"));
            assertThat(stream.body()).contains("retry: 1000");

            drained.get(60, TimeUnit.SECONDS);

            // The application runs on, and the next server re-attaches it.
            long pid = Long.parseLong(Files.readString(dataDir.resolve("batches/" + id + "/pid")).trim());
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).hasValue(true);
            TestServer next = TestServer.start(dataDir, DRAIN);
            try {
                assertThat(next.getJson("/batches/" + id + "/state").get("state").asText()).isEqualTo("running");
                assertThat(next.call("DELETE", "/batches/" + id, null).statusCode()).isEqualTo(200);
                // The create answered during the drain was recorded, and runs.
                int createdId = Integer.parseInt(created.body().replaceAll("(?s).*\"id\":(\\d+).*", "$1"));
                String state = "/batches/" + createdId + "/state";
                await().atMost(Duration.ofMinutes(5)).until(() -> Set.of("success", "dead", "killed")
                        .contains(next.getJson(state).get("state").asText()));
                assertThat(next.getJson(state).get("state").asText())
                        .as("batch %d: %s", createdId, next.get("/batches/" + createdId + "/log?size=300").body())
                        .isEqualTo("success");
            } finally {
                next.close();
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            if (drained == null) {
                server.close();
            }
        }
    }
}
