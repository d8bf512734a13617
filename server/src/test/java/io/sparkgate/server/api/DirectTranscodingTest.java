package io.sparkgate.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.TextFormat;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.grpc.UnframedGrpcErrorHandler;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.GetBatchStateResponse;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.ListBatchesResponse;
import io.sparkgate.server.values.AdmissionLimitException;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.AccessDeniedException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A REST read or create served by {@link DirectTranscoding} is, to the byte, what Armeria's transcoding of the
 * same gRPC service answers: status, headers and body, for answers, domain errors and malformed
 * requests alike. Two servers around one stand-in service that answers with the request it was given
 * (so a request built differently shows), one with the direct path and one without.
 */
class DirectTranscodingTest {

    private static final LivyJsonMarshaller JSON = new LivyJsonMarshaller();
    private static final GrpcExceptionHandlerFunction EXCEPTIONS = LivyErrors.grpcExceptionHandler();
    private static final UnframedGrpcErrorHandler ERRORS = LivyErrors.transcodingErrorHandler();
    /** Requests the direct server passed on to Armeria's transcoding. */
    private static final AtomicInteger passedOn = new AtomicInteger();

    private static Server transcoded;
    private static Server direct;

    @BeforeAll
    static void start() {
        transcoded = server(false);
        direct = server(true);
    }

    @AfterAll
    static void stop() {
        transcoded.stop().join();
        direct.stop().join();
    }

    @Test
    void answersAreTheBytesArmeriasTranscodingWrites() {
        for (String path : List.of(
                "/batches/7/state", "/batches/etl-daily/state", "/batches/7", "/batches/running-one",
                "/batches", "/batches?from=3&size=20", "/batches?size=-1", "/batches?from=0",
                "/batches?name=etl&owner=alice&order=desc", "/batches?size=5&unknown=1&size=7",
                "/batches/7/log", "/batches/7/log?from=10&size=5", "/batches/7/log?from=-1&size=3",
                "/batches/7?id=3", "/batches/%E2%9C%93/state")) {
            assertSameAnswer(path, false);
        }
    }

    @Test
    void domainErrorsAreLivysErrorsWithTheirStatusAndHeaders() {
        for (String path : List.of("/batches/missing", "/batches/secret/state", "/batches/busy",
                                   "/batches/boom/state", "/batches/refused")) {
            assertSameAnswer(path, false);
        }
        AggregatedHttpResponse busy = get(direct, "/batches/busy");
        assertThat(busy.status().code()).isEqualTo(429);
        assertThat(busy.headers().get(HttpHeaderNames.RETRY_AFTER)).isEqualTo("7");
        assertThat(get(direct, "/batches/missing").contentUtf8()).isEqualTo("{\"msg\":\"Session 'missing' not found.\"}");
    }

    @Test
    void whatItCannotBuildAsArmeriaWouldIsLeftToArmeria() {
        for (String path : List.of("/batches?from=abc", "/batches?size=99999999999", "/batches?state=running",
                                   "/batches?state=running&state=dead", "/batches/7/log?from=x")) {
            assertSameAnswer(path, true);
        }
    }

    /**
     * A create's body is read by the marshaller directly and the answer, which the service gives later from
     * another thread, is what Armeria's framed call answers: a Livy body with lists and a map, string
     * numbers, its Location header, and the errors a create can end with.
     */
    @Test
    void aCreateIsAnsweredAsArmeriasTranscodingAnswersIt() {
        for (String body : List.of(
                "{\"file\":\"/jobs/app.jar\",\"className\":\"a.B\",\"args\":[\"10\",20],\"conf\":{\"spark.x\":\"1\"}}",
                "{\"file\":\"/jobs/app.jar\",\"numExecutors\":\"3\",\"driverMemory\":\"1g\",\"name\":\"n\"}",
                "{\"file\":\"/jobs/app.jar\",\"file\":\"/jobs/other.jar\"}", "{\"file\":\"/a.jar\"} trailing",
                "{\"file\":\"busy\"}", "{\"file\":\"refused\"}", "{\"file\":\"boom\"}", "{\"file\":\"missing\"}")) {
            assertSameCreate(MediaType.JSON, "/batches", body, false);
        }
        assertSameCreate(MediaType.parse("application/json; charset=utf-8"), "/batches", "{\"file\":\"/a.jar\"}", false);
    }

    @Test
    void aCreateItCannotReadAsArmeriaWouldIsLeftToArmeria() {
        for (String body : List.of("", "{", "[]", "{\"file\":\"/a.jar\",\"colour\":\"blue\"}",
                                   "{\"numExecutors\":\"many\"}", "null")) {
            assertSameCreate(MediaType.JSON, "/batches", body, true);
        }
        assertSameCreate(MediaType.JSON, "/batches?file=/q.jar", "{\"name\":\"n\"}", true);
        assertSameCreate(MediaType.PLAIN_TEXT_UTF_8, "/batches", "{\"file\":\"/a.jar\"}", true);
        assertSameCreate(null, "/batches", "{\"file\":\"/a.jar\"}", true);
    }

    private static void assertSameCreate(MediaType type, String path, String body, boolean leftToArmeria) {
        AggregatedHttpResponse expected = post(transcoded, path, type, body);
        int before = passedOn.get();
        AggregatedHttpResponse actual = post(direct, path, type, body);

        String what = type + " " + path + " " + body;
        assertThat(passedOn.get() - before).as("requests passed on for %s", what).isEqualTo(leftToArmeria ? 1 : 0);
        assertThat(actual.status()).as(what).isEqualTo(expected.status());
        assertThat(headers(actual)).as(what).isEqualTo(headers(expected));
        assertThat(actual.contentUtf8()).as(what).isEqualTo(expected.contentUtf8());
    }

    private static AggregatedHttpResponse post(Server server, String path, MediaType type, String body) {
        RequestHeadersBuilder headers = RequestHeaders.builder(HttpMethod.POST, path);
        if (type != null) {
            headers.contentType(type);
        }
        return BlockingWebClient.of("http://127.0.0.1:" + server.activeLocalPort())
                .execute(HttpRequest.of(headers.build(), HttpData.ofUtf8(body)));
    }

    private static void assertSameAnswer(String path, boolean leftToArmeria) {
        AggregatedHttpResponse expected = get(transcoded, path);
        int before = passedOn.get();
        AggregatedHttpResponse actual = get(direct, path);

        assertThat(passedOn.get() - before).as("requests passed on for %s", path).isEqualTo(leftToArmeria ? 1 : 0);
        assertThat(actual.status()).as(path).isEqualTo(expected.status());
        assertThat(headers(actual)).as(path).isEqualTo(headers(expected));
        assertThat(actual.contentUtf8()).as(path).isEqualTo(expected.contentUtf8());
    }

    private static AggregatedHttpResponse get(Server server, String path) {
        return BlockingWebClient.of("http://127.0.0.1:" + server.activeLocalPort()).get(path);
    }

    private static Map<String, String> headers(AggregatedHttpResponse res) {
        Map<String, String> out = new TreeMap<>();
        res.headers().forEach((name, value) -> {
            if (!name.contentEquals(HttpHeaderNames.DATE)) {
                out.merge(name.toString(), value, (a, b) -> a + ", " + b);
            }
        });
        return out;
    }

    private static Server server(boolean withDirectReads) {
        GrpcService grpc = SparkgateServer.withLivyFace(GrpcService.builder(), JSON, EXCEPTIONS, ERRORS)
                .addService(new Echo())
                .build();
        var sb = Server.builder().http(0).errorHandler(LivyErrors.serverErrorHandler());
        if (withDirectReads) {
            // Innermost first: what reaches the counting decorator is what DirectTranscoding passed on.
            sb.service(grpc, service -> service.decorate((delegate, ctx, req) -> {
                passedOn.incrementAndGet();
                return delegate.serve(ctx, req);
            }), service -> service.decorate(new DirectTranscoding(EXCEPTIONS, ERRORS, JSON)));
        } else {
            sb.service(grpc);
        }
        Server server = sb.build();
        server.start().join();
        return server;
    }

    /** Answers every call with the request it was given, or with the error its name asks for. */
    private static final class Echo extends BatchServiceGrpc.BatchServiceImplBase {

        /** Answers later, from another thread, as the real service answers once the store recorded the batch. */
        @Override
        public void createBatch(CreateBatchRequest request, StreamObserver<Batch> responses) {
            if (request.getFile().equals("busy") || request.getFile().equals("boom")) {
                failedAsAsked(request.getFile(), responses); // throws, on the calling thread as a refusal does
            }
            ServiceRequestContext ctx = ServiceRequestContext.current();
            CompletableFuture.runAsync(() -> {
                try {
                    if (failedAsAsked(request.getFile(), responses)) {
                        return;
                    }
                } catch (RuntimeException e) {
                    responses.onError(e); // as the real service ends a create its store refused
                    return;
                }
                ctx.addAdditionalResponseHeader(HttpHeaderNames.LOCATION, "/batches/9");
                responses.onNext(Batch.newBuilder().setId(9).setName(TextFormat.shortDebugString(request))
                        .setState(BatchState.BATCH_STATE_STARTING).build());
                responses.onCompleted();
            }, CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS));
        }

        @Override
        public void getBatch(GetBatchRequest request, StreamObserver<Batch> responses) {
            if (failedAsAsked(request.getIdOrName(), responses)) {
                return;
            }
            BatchState state = request.getIdOrName().startsWith("running") ? BatchState.BATCH_STATE_RUNNING
                    : BatchState.BATCH_STATE_SUCCESS;
            responses.onNext(Batch.newBuilder().setId(request.getId()).setName(TextFormat.shortDebugString(request))
                    .setState(state).addLog("a line").setMayDelete(true).build());
            responses.onCompleted();
        }

        @Override
        public void getBatchState(GetBatchStateRequest request, StreamObserver<GetBatchStateResponse> responses) {
            if (failedAsAsked(request.getIdOrName(), responses)) {
                return;
            }
            responses.onNext(GetBatchStateResponse.newBuilder().setId(request.getIdOrName().length())
                    .setState(BatchState.BATCH_STATE_RUNNING).build());
            responses.onCompleted();
        }

        @Override
        public void listBatches(ListBatchesRequest request, StreamObserver<ListBatchesResponse> responses) {
            responses.onNext(ListBatchesResponse.newBuilder().setFrom(request.getFrom()).setTotal(request.getSize())
                    .addSessions(Batch.newBuilder().setId(1).setName(TextFormat.shortDebugString(request))
                            .setState(BatchState.BATCH_STATE_DEAD))
                    .addSessions(Batch.newBuilder().setId(2).setState(BatchState.BATCH_STATE_STARTING))
                    .build());
            responses.onCompleted();
        }

        @Override
        public void getBatchLog(GetBatchLogRequest request, StreamObserver<GetBatchLogResponse> responses) {
            responses.onNext(GetBatchLogResponse.newBuilder().setId(request.getId()).setFrom(request.getFrom())
                    .setSize(request.getSize()).addLog(TextFormat.shortDebugString(request)).build());
            responses.onCompleted();
        }

        /** Throws or answers the error a name asks for; false for any other name. */
        private static boolean failedAsAsked(String name, StreamObserver<?> responses) {
            switch (name) {
                case "missing" -> throw new BatchNotFoundException(name);
                case "secret" -> throw new AccessDeniedException("not yours: " + name);
                case "busy" -> throw new AdmissionLimitException("too many", Duration.ofSeconds(7));
                case "boom" -> throw new IllegalStateException("a bug");
                case "refused" -> {
                    responses.onError(Status.FAILED_PRECONDITION.withDescription("refused").asRuntimeException());
                    return true;
                }
                default -> {
                    return false;
                }
            }
        }
    }
}
