package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Message;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc.BatchServiceStub;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.DeleteBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.WatchBatchRequest;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AdmissionSettings;
import io.sparkgate.server.security.MalformedRequests.GrpcCall;
import io.sparkgate.server.security.MalformedRequests.RawFrame;
import io.sparkgate.server.security.MalformedRequests.RestCase;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Thousands of generated malformed requests over REST and gRPC against a real server: none may get a
 * 5xx or INTERNAL/UNKNOWN, every REST error is Livy's {@code {"msg"}} with a 4xx, a rejected request
 * leaves no batch, the server logs no exception, and afterwards it still serves and runs a real batch.
 *
 * <p>Deterministic from its seed (printed; replay with {@code -Dsparkgate.fuzz.seed=N}).
 */
class BadInputFuzzTest {

    private static final long SEED = Long.getLong("sparkgate.fuzz.seed", 20261126L);
    private static final int IN_FLIGHT = 8;
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** An error names what was wrong; it never echoes a huge input back. */
    private static final int MAX_ERROR_MESSAGE = 4096;
    private static final Set<Status.Code> SERVER_FAULTS =
            Set.of(Status.Code.INTERNAL, Status.Code.UNKNOWN, Status.Code.DEADLINE_EXCEEDED);

    /** One batch at a time, and accepted batches are deleted at once: a fuzz case cannot flood the machine with JVMs. */
    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.MAX_STARTING.name(), "1",
            ConfigKeys.MAX_RUNNING.name(), "1"));

    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final Queue<String> accepted = new ConcurrentLinkedQueue<>();
    private final Map<String, Integer> outcomes = new java.util.concurrent.ConcurrentSkipListMap<>();
    private WebClient http;
    private RawHttp raw;
    private java.util.concurrent.ExecutorService senders;
    private BatchServiceStub grpc;

    @Test
    void survivesMalformedRequestsOnBothProtocolsAndStillRunsABatch() {
        System.out.println("BadInputFuzzTest seed " + SEED + " (replay with -Dsparkgate.fuzz.seed=" + SEED + ")");
        http = WebClient.builder(server.baseUrl()).responseTimeout(CALL_TIMEOUT).build();
        raw = new RawHttp(server.port(), (int) CALL_TIMEOUT.toMillis());
        senders = java.util.concurrent.Executors.newFixedThreadPool(IN_FLIGHT);
        grpc = GrpcClients.builder(server.baseUrl()).responseTimeout(CALL_TIMEOUT)
                .maxRequestMessageLength(64 << 20).maxResponseMessageLength(64 << 20)
                .build(BatchServiceStub.class);

        int fixture = finishedBatchWithALog();
        Set<Integer> idsBefore = batchIds();
        MalformedRequests requests = new MalformedRequests(SEED, fixture);
        List<RestCase> rest = requests.rest();
        List<GrpcCall> calls = requests.grpc();
        List<RawFrame> frames = requests.rawFrames();
        assertThat(rest.size()).isGreaterThanOrEqualTo(1_200);
        assertThat(calls.size() + frames.size()).isGreaterThanOrEqualTo(800);

        ListAppender<ILoggingEvent> serverLog = captureServerLog();
        try {
            runBounded(rest, this::send);
            runBounded(calls, this::call);
            runBounded(frames, this::sendRaw);
        } finally {
            senders.shutdownNow();
            ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(serverLog);
        }
        System.out.printf("BadInputFuzzTest: %d REST, %d gRPC, %d raw gRPC frames; %d accepted and deleted%n",
                rest.size(), calls.size(), frames.size(), accepted.size());
        System.out.println("BadInputFuzzTest outcomes: " + outcomes);

        assertThat(failures).as("seed %d: server faults", SEED).isEmpty();
        assertThat(serverLog.list.stream()
                .filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR)
                             || e.getLevel().isGreaterOrEqual(Level.WARN) && e.getThrowableProxy() != null
                                && e.getLoggerName().startsWith("io.sparkgate"))
                .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage()
                          + (e.getThrowableProxy() == null ? "" : " / " + e.getThrowableProxy().getClassName() + ": "
                                                                    + e.getThrowableProxy().getMessage()))
                .toList())
                .as("seed %d: exceptions in the server log", SEED).isEmpty();
        // Every accepted batch was deleted, and nothing else was created.
        assertThat(batchIds()).as("seed %d: batches after the fuzz", SEED).isEqualTo(idsBefore);
        assertThat(server.getJson("/batches").get("total").asInt()).isEqualTo(idsBefore.size());

        assertStillHealthy();
    }

    // ---------------------------------------------------------------- REST

    private CompletableFuture<Void> send(RestCase c) {
        Map<String, String> headers = new java.util.LinkedHashMap<>(c.headers());
        if (c.contentType() != null) {
            headers.put("Content-Type", c.contentType());
        }
        return CompletableFuture.supplyAsync(() -> raw.exchange(c.method().name(), c.path(), headers, c.body()), senders)
                .handle((res, err) -> {
                    if (err != null) {
                        failures.add(describe(c) + ": no response: " + err);
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    return checkRest(c, res);
                }).thenCompose(Function.identity());
    }

    private CompletableFuture<Void> checkRest(RestCase c, RawHttp.Response res) {
        int status = res.status();
        outcomes.merge("REST " + status, 1, Integer::sum);
        if (status >= 500 || status < 200 || status >= 300 && status < 400) {
            failures.add(describe(c) + ": HTTP " + status + " " + preview(res.bodyText()));
            return CompletableFuture.completedFuture(null);
        }
        if (status >= 400) {
            checkLivyError(c, res);
            return CompletableFuture.completedFuture(null);
        }
        // A create may also arrive by a path that normalises to /batches (a fragment, a trailing '?').
        if (c.method() == HttpMethod.POST && isBatch(res.bodyText())) {
            if (!c.isCreate()) {
                System.out.println("BadInputFuzzTest: created by " + describe(c));
            }
            return deleteAccepted(describe(c), jsonId(res.bodyText()));
        }
        return CompletableFuture.completedFuture(null);
    }

    private void checkLivyError(RestCase c, RawHttp.Response res) {
        String type = res.headers().get("content-type");
        if (type == null || !MediaType.parse(type).is(MediaType.JSON)) {
            failures.add(describe(c) + ": HTTP " + res.status() + " with content type " + type + ": "
                         + preview(res.bodyText()));
            return;
        }
        try {
            JsonNode body = JSON.readTree(res.bodyText());
            if (body == null || !body.isObject() || body.size() != 1 || !body.path("msg").isTextual()) {
                failures.add(describe(c) + ": HTTP " + res.status() + " body not {\"msg\"}: " + preview(res.bodyText()));
            } else if (body.get("msg").asText().length() > MAX_ERROR_MESSAGE) {
                failures.add(describe(c) + ": HTTP " + res.status() + " message of " + body.get("msg").asText().length()
                             + " characters: " + preview(res.bodyText()));
            }

        } catch (Exception e) {
            failures.add(describe(c) + ": HTTP " + res.status() + " body not JSON: " + preview(res.bodyText()));
        }
    }

    /** A create that was accepted: its batch must exist, and goes at once. */
    private CompletableFuture<Void> deleteAccepted(String what, int id) {
        accepted.add(what + " -> batch " + id);
        return http.get("/batches/" + id).aggregate().thenCompose(got -> {
            if (got.status().code() != 200) {
                failures.add(what + ": accepted as batch " + id + " but GET answers " + got.status());
            }
            return http.delete("/batches/" + id).aggregate();
        }).thenAccept(deleted -> {
            if (deleted.status().code() != 200) {
                failures.add(what + ": DELETE of accepted batch " + id + " answers " + deleted.status());
            }
        });
    }

    // ---------------------------------------------------------------- gRPC

    private CompletableFuture<Void> call(GrpcCall c) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<Message> observer = new StreamObserver<>() {
            private Message last;

            @Override
            public void onNext(Message value) {
                last = value;
            }

            @Override
            public void onError(Throwable t) {
                Status status = Status.fromThrowable(t);
                outcomes.merge("gRPC " + status.getCode(), 1, Integer::sum);
                if (SERVER_FAULTS.contains(status.getCode())) {
                    failures.add("gRPC " + c.label() + ": " + status);
                }
                done.complete(null);
            }

            @Override
            public void onCompleted() {
                outcomes.merge("gRPC OK", 1, Integer::sum);
                if (c.method().equals("CreateBatch")) {
                    deleteAccepted("gRPC " + c.label(), ((Batch) last).getId()).whenComplete((v, e) -> done.complete(null));
                } else {
                    done.complete(null);
                }
            }
        };
        @SuppressWarnings({"unchecked", "rawtypes"})
        StreamObserver raw = observer;
        switch (c.method()) {
            case "CreateBatch" -> grpc.createBatch((CreateBatchRequest) c.request(), raw);
            case "GetBatch" -> grpc.getBatch((GetBatchRequest) c.request(), raw);
            case "GetBatchState" -> grpc.getBatchState((GetBatchStateRequest) c.request(), raw);
            case "DeleteBatch" -> grpc.deleteBatch((DeleteBatchRequest) c.request(), raw);
            case "ListBatches" -> grpc.listBatches((ListBatchesRequest) c.request(), raw);
            case "GetBatchLog" -> grpc.getBatchLog((GetBatchLogRequest) c.request(), raw);
            case "StreamBatchLog" -> grpc.streamBatchLog((StreamBatchLogRequest) c.request(), raw);
            case "WatchBatch" -> grpc.watchBatch((WatchBatchRequest) c.request(), raw);
            default -> throw new IllegalArgumentException(c.method());
        }
        return done;
    }

    /** Bytes that are no gRPC message: a gRPC status must come back, never INTERNAL or UNKNOWN. */
    private CompletableFuture<Void> sendRaw(RawFrame f) {
        RequestHeaders headers = RequestHeaders.builder(HttpMethod.POST, "/sparkgate.v1.BatchService/" + f.method())
                .set("content-type", f.contentType())
                .set("te", "trailers")
                .build();
        String what = "raw gRPC " + f.label();
        return http.execute(HttpRequest.of(headers, HttpData.wrap(f.body()))).aggregate().handle((res, err) -> {
            if (err != null) {
                failures.add(what + ": no response: " + err);
                return CompletableFuture.<Void>completedFuture(null);
            }
            String grpcStatus = grpcStatus(res);
            if (grpcStatus == null) {
                if (res.status().code() < 400 || res.status().code() >= 500) {
                    failures.add(what + ": HTTP " + res.status() + " without a gRPC status");
                }
                return CompletableFuture.<Void>completedFuture(null);
            }
            Status.Code code = Status.fromCodeValue(Integer.parseInt(grpcStatus)).getCode();
            outcomes.merge("raw gRPC " + code, 1, Integer::sum);
            if (SERVER_FAULTS.contains(code)) {
                failures.add(what + ": " + code + " " + res.headers().get("grpc-message") + " "
                             + res.trailers().get("grpc-message"));
            }
            if (code == Status.Code.OK && f.method().equals("CreateBatch")) {
                return deleteAccepted(what, createdId(f.contentType(), res.content().array()));
            }
            return CompletableFuture.<Void>completedFuture(null);
        }).thenCompose(Function.identity());
    }

    private static String grpcStatus(AggregatedHttpResponse res) {
        for (HttpHeaders h : List.of(res.trailers(), res.headers())) {
            if (h.get("grpc-status") != null) {
                return h.get("grpc-status");
            }
        }
        return null;
    }

    private static int createdId(String contentType, byte[] framed) {
        try {
            if (contentType.endsWith("-text")) {
                framed = java.util.Base64.getDecoder().decode(framed);
            }
            ByteBuffer in = ByteBuffer.wrap(framed);
            in.get();
            byte[] payload = new byte[in.getInt()];
            in.get(payload);
            return contentType.endsWith("json") ? jsonId(new String(payload, StandardCharsets.UTF_8))
                                                : Batch.parseFrom(payload).getId();
        } catch (Exception e) {
            throw new AssertionError("cannot read the created batch of a raw frame", e);
        }
    }

    // ---------------------------------------------------------------- around the fuzz

    /** A batch that ended (FailingApp) with a log: log paging and streams on it do real work. */
    private int finishedBatchWithALog() {
        var res = server.call("POST", "/batches", "{\"file\": \"" + MalformedRequests.JAR
                + "\", \"className\": \"io.sparkgate.examples.FailingApp\", \"name\": \"fixture\"}");
        assertThat(res.statusCode()).as(res.body()).isEqualTo(201);
        int id = jsonId(res.body());
        await().atMost(Duration.ofMinutes(2)).untilAsserted(() ->
                assertThat(server.getJson("/batches/" + id + "/state").get("state").asText()).isIn("dead", "success"));
        assertThat(server.getJson("/batches/" + id + "/log").get("total").asInt()).isPositive();
        return id;
    }

    private void assertStillHealthy() {
        HealthCheckResponse health = GrpcClients.newClient(server.baseUrl(), HealthGrpc.HealthBlockingStub.class)
                .check(HealthCheckRequest.getDefaultInstance());
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(server.getJson("/batches?from=0&size=10").get("from").asInt()).isZero();

        var res = server.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.SparkPi", "args": ["2"], "name": "after-fuzz"}
                """.formatted(TestServer.EXAMPLES_JAR));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(201);
        int id = jsonId(res.body());
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(server.getJson("/batches/" + id + "/state").get("state").asText())
                        .isIn("success", "dead", "killed"));
        assertThat(server.getJson("/batches/" + id).get("state").asText()).isEqualTo("success");
        assertThat(server.getJson("/batches/" + id + "/log?size=-1").toString()).contains("Pi is roughly");
    }

    private Set<Integer> batchIds() {
        JsonNode page = server.getJson("/batches?from=0&size=100000");
        Set<Integer> ids = new TreeSet<>();
        page.get("sessions").forEach(b -> ids.add(b.get("id").asInt()));
        assertThat(ids).hasSize(page.get("total").asInt());
        return ids;
    }

    private static ListAppender<ILoggingEvent> captureServerLog() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(appender);
        return appender;
    }

    /** Sends every case with at most {@link #IN_FLIGHT} outstanding, and waits for all. */
    private <T> void runBounded(List<T> cases, Function<T, CompletableFuture<Void>> send) {
        Semaphore permits = new Semaphore(IN_FLIGHT);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            T c = cases.get(i);
            String name = "case " + i + " of " + c.getClass().getSimpleName();
            permits.acquireUninterruptibly();
            CompletableFuture<Void> sent;
            try {
                sent = send.apply(c);
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            sent.whenComplete((v, e) -> {
                if (e != null) {
                    failures.add(name + ": " + e);
                }
                permits.release();
            });
            all.add(sent);
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).orTimeout(5, TimeUnit.MINUTES).join();
    }

    private static boolean isBatch(String body) {
        try {
            JsonNode json = JSON.readTree(body);
            return json != null && json.has("id") && json.has("state");
        } catch (Exception e) {
            return false;
        }
    }

    private static int jsonId(String body) {
        try {
            return JSON.readTree(body).get("id").asInt();
        } catch (Exception e) {
            throw new AssertionError("no batch id in " + preview(body), e);
        }
    }

    private static String describe(RestCase c) {
        return c.label() + ": " + c.method() + " " + preview(c.path()) + " " + c.headers() + " "
               + preview(new String(c.body(), StandardCharsets.UTF_8));
    }

    private static String preview(String s) {
        String oneLine = s.replace("\n", "\\n").replace("\u0000", "\\0");
        return oneLine.length() <= 160 ? oneLine : oneLine.substring(0, 160) + "...(" + s.length() + " chars)";
    }
}
