package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.LogLine;
import io.sparkgate.api.v1.StateChange;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.StreamBatchLogResponse;
import io.sparkgate.client.LogFollow;
import io.sparkgate.client.SparkgateClient;
import io.sparkgate.client.SparkgateException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Following a batch's log and state live, over gRPC and Server-Sent Events, with real Spark applications. */
class LogStreamingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();

    @RegisterExtension
    static final TestServer server = new TestServer();

    private static SparkgateClient client;

    @BeforeAll
    static void start() {
        client = SparkgateClient.connect("127.0.0.1:" + server.port());
    }

    @AfterAll
    static void stop() {
        client.close();
    }

    @Test
    void followerStartedBeforeTheAppPrintsSeesEveryLineInOrderThenSuccess() throws Exception {
        Batch batch = client.submit(numberedLines(300, 10, 0));
        List<LogLine> seen = new ArrayList<>();
        BatchState end;
        try (LogFollow follow = client.followLog(batch.getId(), 0)) {
            follow.forEachRemaining(seen::add);
            end = follow.finalState().orElseThrow();
        }

        assertThat(end).isEqualTo(BatchState.BATCH_STATE_SUCCESS);
        List<String> log = client.log(batch.getId(), 0, -1).getLogList();
        assertThat(seen).extracting(LogLine::getText).containsExactlyElementsOf(log);
        assertThat(seen).extracting(LogLine::getOffset).containsExactlyElementsOf(
                IntStream.range(0, log.size()).boxed().toList());
        assertThat(log).containsSubsequence(IntStream.range(0, 300).mapToObj(i -> "line " + i).toList());

        // Attached after the end: the whole log at once, and the stream ends.
        List<String> again = new ArrayList<>();
        try (LogFollow late = client.followLog(batch.getId(), 0)) {
            late.forEachRemaining(l -> again.add(l.getText()));
            assertThat(late.finalState()).contains(BatchState.BATCH_STATE_SUCCESS);
        }
        assertThat(again).containsExactlyElementsOf(log);

        // Resumed from an offset: exactly the rest.
        List<LogLine> rest = new ArrayList<>();
        try (LogFollow resumed = client.followLog(batch.getId(), 100)) {
            resumed.forEachRemaining(rest::add);
        }
        assertThat(rest).extracting(LogLine::getText).containsExactlyElementsOf(log.subList(100, log.size()));
        assertThat(rest.get(0).getOffset()).isEqualTo(100);

        // Over SSE: the same lines, ids are offsets, then an end event with the final state.
        String url = server.baseUrl() + "/batches/" + batch.getId() + "/log/stream";
        SseClient.Stream sse = SseClient.read(url, Map.of());
        assertThat(sse.status()).isEqualTo(200);
        assertThat(sse.contentType()).startsWith("text/event-stream");
        assertThat(sse.messages()).extracting(SseClient.Event::data).containsExactlyElementsOf(log);
        assertThat(sse.messages()).extracting(SseClient.Event::id).containsExactlyElementsOf(
                IntStream.range(0, log.size()).mapToObj(Integer::toString).toList());
        SseClient.Event last = sse.events().get(sse.events().size() - 1);
        assertThat(last.event()).isEqualTo("end");
        assertThat(JSON.readTree(last.data()).get("state").asText()).isEqualTo("success");

        SseClient.Stream resumedSse = SseClient.read(url, Map.of("Last-Event-ID", "41"));
        assertThat(resumedSse.messages()).extracting(SseClient.Event::data)
                .containsExactlyElementsOf(log.subList(42, log.size()));
        SseClient.Stream fromSse = SseClient.read(url + "?from=42", Map.of());
        assertThat(fromSse.messages()).extracting(SseClient.Event::data)
                .containsExactlyElementsOf(log.subList(42, log.size()));
    }

    @Test
    void failedAppsStreamEndsDeadAndWatchSeesEveryState() throws Exception {
        Batch batch = client.submit(CreateBatchRequest.newBuilder()
                .setFile(EXAMPLES).setClassName("io.sparkgate.examples.FailingApp").build());
        Iterator<StateChange> watch = client.watch(batch.getId());
        CompletableFuture<SseClient.Stream> events = CompletableFuture.supplyAsync(() -> {
            try {
                return SseClient.read(server.baseUrl() + "/batches/" + batch.getId() + "/events", Map.of());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        List<String> lines = new ArrayList<>();
        try (LogFollow follow = client.followLog(batch.getId(), 0)) {
            follow.forEachRemaining(l -> lines.add(l.getText()));
            assertThat(follow.finalState()).contains(BatchState.BATCH_STATE_DEAD);
        }
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("Sparkgate example failure"));

        List<StateChange> changes = new ArrayList<>();
        watch.forEachRemaining(changes::add);
        assertThat(changes).extracting(StateChange::getState).endsWith(BatchState.BATCH_STATE_DEAD)
                .contains(BatchState.BATCH_STATE_RUNNING);
        assertThat(changes.get(changes.size() - 1).getReason()).contains("exit");

        SseClient.Stream sse = events.get(3, TimeUnit.MINUTES);
        assertThat(sse.contentType()).startsWith("text/event-stream");
        List<String> states = new ArrayList<>();
        assertThat(sse.events().get(sse.events().size() - 1).event()).isEqualTo("end");
        for (SseClient.Event e : sse.events().subList(0, sse.events().size() - 1)) {
            JsonNode data = JSON.readTree(e.data());
            assertThat(data.has("time")).isTrue();
            assertThat(data.has("reason")).isTrue();
            states.add(data.get("state").asText());
        }
        assertThat(states).endsWith("dead");
    }

    @Test
    void deletedBatchsStreamEndsKilled() {
        Batch batch = client.submit(CreateBatchRequest.newBuilder()
                .setFile(EXAMPLES).setClassName("io.sparkgate.examples.NumberedLines")
                .addArgs("100000").addArgs("50").build());
        try (LogFollow follow = client.followLog(batch.getId(), 0)) {
            assertThat(follow.hasNext()).isTrue();
            assertThat(follow.next().getText()).isNotNull();
            client.kill(batch.getId());
            follow.forEachRemaining(l -> { });
            assertThat(follow.finalState()).contains(BatchState.BATCH_STATE_KILLED);
        }
    }

    @Test
    void twoHundredFollowersGetIdenticalCompleteLogsAndAStalledOneDelaysNobody() throws Exception {
        // A chatty app: 1,000 lines of 200 bytes over ~3 s.
        Batch batch = client.submit(numberedLines(1000, 2, 200));
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        // The stalled follower's connection takes 8 KB before HTTP/2 flow control stops the server.
        ManagedChannel stalledChannel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
                .flowControlWindow(8192).build();
        try {
            BatchServiceGrpc.BatchServiceStub async = BatchServiceGrpc.newStub(channel);
            // One follower that takes its first message and then never reads again.
            CountDownLatch stalledGotOne = new CountDownLatch(1);
            AtomicInteger stalledReceived = new AtomicInteger();
            AtomicBoolean stalledCompleted = new AtomicBoolean();
            ClientCallStreamObserver<?>[] stalledCall = new ClientCallStreamObserver<?>[1];
            BatchServiceGrpc.newStub(stalledChannel).streamBatchLog(request(batch.getId()), new ClientResponseObserver<StreamBatchLogRequest, StreamBatchLogResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<StreamBatchLogRequest> call) {
                    stalledCall[0] = call;
                    call.disableAutoInboundFlowControl(); // one message is still requested at start
                }

                @Override
                public void onNext(StreamBatchLogResponse value) {
                    stalledReceived.incrementAndGet();
                    stalledGotOne.countDown();
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    stalledCompleted.set(true);
                }
            });
            assertThat(stalledGotOne.await(2, TimeUnit.MINUTES)).isTrue();

            List<CompletableFuture<List<String>>> followers = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                CompletableFuture<List<String>> done = new CompletableFuture<>();
                List<String> lines = new ArrayList<>();
                async.streamBatchLog(request(batch.getId()), new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(StreamBatchLogResponse value) {
                        if (value.hasLine()) {
                            lines.add(value.getLine().getText());
                        } else {
                            lines.add("<end " + value.getFinalState() + ">");
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(lines);
                    }
                });
                followers.add(done);
            }
            CompletableFuture.allOf(followers.toArray(CompletableFuture[]::new)).get(3, TimeUnit.MINUTES);
            // Everyone got the whole log while the stalled follower still sits on its first message(s): nobody
            // waited for it.
            assertThat(stalledCompleted).isFalse();
            assertThat(stalledReceived.get()).isLessThan(1000);
            List<String> expected = new ArrayList<>(client.log(batch.getId(), 0, -1).getLogList());
            assertThat(expected).contains("line 999" + ".".repeat(200 - "line 999".length() - 1) + "|");
            expected.add("<end BATCH_STATE_SUCCESS>");
            for (CompletableFuture<List<String>> f : followers) {
                assertThat(f.get()).containsExactlyElementsOf(expected);
            }
            // The stalled follower is still attached, holding only its cursor.
            assertThat(server.server().manager().followers(batch.getId())).isEqualTo(1);
            stalledCall[0].cancel("test over", null);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.server().manager().followers(batch.getId()) == 0);
        } finally {
            channel.shutdownNow();
            stalledChannel.shutdownNow();
        }
    }

    @Test
    void unknownBatchesAndBadOffsetsAreRejectedBeforeAnyStream() throws Exception {
        assertThatThrownBy(() -> client.followLog(777777, 0).hasNext())
                .isInstanceOfSatisfying(SparkgateException.class,
                        e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> client.watch(777777).hasNext())
                .isInstanceOfSatisfying(SparkgateException.class,
                        e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        // The offset is checked before the batch is looked up: a bad argument is one whatever the id.
        assertThatThrownBy(() -> client.followLog(777777, -3).hasNext())
                .isInstanceOfSatisfying(SparkgateException.class,
                        e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));

        for (String path : List.of("/batches/777777/log/stream", "/batches/777777/events")) {
            HttpResponse<String> res = server.get(path);
            assertThat(res.statusCode()).isEqualTo(404);
            assertThat(res.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
            assertThat(JSON.readTree(res.body()).get("msg").asText()).isEqualTo("Session '777777' not found.");
        }
        HttpResponse<String> badId = server.get("/batches/abc/log/stream");
        assertThat(badId.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(badId.body()).get("msg").asText()).contains("id");
    }

    private static StreamBatchLogRequest request(int id) {
        return StreamBatchLogRequest.newBuilder().setId(id).setFrom(0).build();
    }

    private static CreateBatchRequest numberedLines(int n, int delayMillis, int width) {
        return CreateBatchRequest.newBuilder().setFile(EXAMPLES).setClassName("io.sparkgate.examples.NumberedLines")
                .addArgs(Integer.toString(n)).addArgs(Integer.toString(delayMillis)).addArgs(Integer.toString(width))
                .build();
    }
}
