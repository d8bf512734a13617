package io.sparkgate.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClientBuilder;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.SerializationFormat;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.WatchBatchRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.assertj.core.api.SoftAssertions;

/**
 * Every route of the port, called the way its clients call it (Livy REST, SSE, native gRPC, gRPC-Web,
 * the docs page, gRPC reflection), with one set of credentials: the auth matrix's rows.
 */
final class AuthMatrix {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A batch id that does not exist: a 404 / NOT_FOUND for it proves the request got past authentication. */
    static final int UNKNOWN = 987654;

    /** What one route answered: an HTTP status (REST, SSE, docs) or a gRPC status. */
    record Outcome(String route, boolean grpc, int httpStatus, Status.Code grpcCode, String message,
                   String wwwAuthenticate) {
        @Override
        public String toString() {
            return route + " -> " + (grpc ? grpcCode : Integer.toString(httpStatus)) + " " + message;
        }
    }

    /**
     * One row's client: where, over which connection, with which {@code Authorization} header (or none).
     * SPNEGO needs a fresh token per request (a server refuses a replayed one): {@code perRequest}, when
     * given, makes each request's header instead.
     */
    record Caller(String baseUri, ClientFactory factory, String authorization, Supplier<String> perRequest) {
        Caller(String baseUri, ClientFactory factory, String authorization) {
            this(baseUri, factory, authorization, null);
        }

        /** A caller whose every request carries a new header from {@code perRequest}. */
        static Caller perRequest(String baseUri, ClientFactory factory, Supplier<String> perRequest) {
            return new Caller(baseUri, factory, null, perRequest);
        }
    }

    private AuthMatrix() {}

    /** The routes with what an authenticated caller gets from each (for an unknown batch id). */
    static List<Outcome> callEveryRoute(Caller caller) {
        List<Outcome> outcomes = new ArrayList<>();
        outcomes.add(http(caller, "REST POST /batches", HttpMethod.POST, "/batches", "{}"));
        outcomes.add(http(caller, "REST GET /batches", HttpMethod.GET, "/batches", null));
        outcomes.add(http(caller, "REST GET /batches/{id}", HttpMethod.GET, "/batches/" + UNKNOWN, null));
        outcomes.add(http(caller, "REST GET /batches/{id}/state", HttpMethod.GET, "/batches/" + UNKNOWN + "/state", null));
        outcomes.add(http(caller, "REST GET /batches/{id}/log", HttpMethod.GET, "/batches/" + UNKNOWN + "/log", null));
        outcomes.add(http(caller, "REST DELETE /batches/{id}", HttpMethod.DELETE, "/batches/" + UNKNOWN, null));
        outcomes.add(http(caller, "SSE /batches/{id}/log/stream", HttpMethod.GET, "/batches/" + UNKNOWN + "/log/stream", null));
        outcomes.add(http(caller, "SSE /batches/{id}/events", HttpMethod.GET, "/batches/" + UNKNOWN + "/events", null));
        outcomes.add(http(caller, "docs /docs/", HttpMethod.GET, "/docs/", null));
        outcomes.add(http(caller, "docs /docs/specification.json", HttpMethod.GET, "/docs/specification.json", null));
        SerializationFormat proto = GrpcSerializationFormats.PROTO;
        SerializationFormat web = GrpcSerializationFormats.PROTO_WEB;
        outcomes.add(grpc(caller, proto, "gRPC CreateBatch", s -> s.createBatch(CreateBatchRequest.getDefaultInstance())));
        outcomes.add(grpc(caller, proto, "gRPC GetBatch", s -> s.getBatch(GetBatchRequest.newBuilder().setId(UNKNOWN).build())));
        outcomes.add(grpc(caller, proto, "gRPC ListBatches", s -> s.listBatches(ListBatchesRequest.getDefaultInstance())));
        outcomes.add(grpc(caller, proto, "gRPC StreamBatchLog", s -> s.streamBatchLog(
                StreamBatchLogRequest.newBuilder().setId(UNKNOWN).build()).hasNext()));
        outcomes.add(grpc(caller, proto, "gRPC WatchBatch", s -> s.watchBatch(
                WatchBatchRequest.newBuilder().setId(UNKNOWN).build()).hasNext()));
        outcomes.add(grpc(caller, web, "gRPC-Web GetBatch", s -> s.getBatch(GetBatchRequest.newBuilder().setId(UNKNOWN).build())));
        outcomes.add(grpc(caller, web, "gRPC-Web ListBatches", s -> s.listBatches(ListBatchesRequest.getDefaultInstance())));
        outcomes.add(reflection(caller));
        return outcomes;
    }

    /** Every route refused: 401 + {"msg": message} (+ the challenge) on HTTP, UNAUTHENTICATED + message on gRPC. */
    static void assertAllRefused(Caller caller, String message, String challengePrefix) {
        SoftAssertions softly = new SoftAssertions();
        for (Outcome o : callEveryRoute(caller)) {
            if (o.grpc()) {
                softly.assertThat(o.grpcCode()).as(o.toString()).isEqualTo(Status.Code.UNAUTHENTICATED);
            } else {
                softly.assertThat(o.httpStatus()).as(o.toString()).isEqualTo(401);
                if (challengePrefix != null) {
                    softly.assertThat(o.wwwAuthenticate()).as(o + " WWW-Authenticate").startsWith(challengePrefix);
                }
            }
            softly.assertThat(o.message()).as(o.toString()).isEqualTo(message);
        }
        softly.assertAll();
    }

    /** Every route got past authentication: what a caller gets for an unknown batch, a listing, the docs. */
    static void assertAllPass(Caller caller) {
        SoftAssertions softly = new SoftAssertions();
        for (Outcome o : callEveryRoute(caller)) {
            String r = o.route();
            if (o.grpc()) {
                Status.Code expected = r.contains("List") || r.contains("reflection") ? Status.Code.OK
                        : r.contains("CreateBatch") ? Status.Code.INVALID_ARGUMENT : Status.Code.NOT_FOUND;
                softly.assertThat(o.grpcCode()).as(o.toString()).isEqualTo(expected);
            } else {
                int expected = r.startsWith("docs") || r.equals("REST GET /batches") ? 200
                        : r.startsWith("REST POST") ? 400 : 404;
                softly.assertThat(o.httpStatus()).as(o.toString()).isEqualTo(expected);
            }
        }
        softly.assertAll();
    }

    /** The gRPC health check, without credentials. */
    static HealthCheckResponse.ServingStatus health(String baseUri, ClientFactory factory) {
        return GrpcClients.builder(baseUri).factory(factory).build(HealthGrpc.HealthBlockingStub.class)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus();
    }

    static WebClient web(Caller caller) {
        var builder = WebClient.builder(caller.baseUri()).factory(caller.factory());
        if (caller.authorization() != null) {
            builder.addHeader(HttpHeaderNames.AUTHORIZATION, caller.authorization());
        }
        if (caller.perRequest() != null) {
            builder.decorator((delegate, ctx, req) -> {
                var fresh = req.withHeaders(req.headers().toBuilder()
                        .set(HttpHeaderNames.AUTHORIZATION, caller.perRequest().get()));
                ctx.updateRequest(fresh);
                return delegate.execute(ctx, fresh);
            });
        }
        return builder.build();
    }

    static BatchServiceGrpc.BatchServiceBlockingStub stub(Caller caller, SerializationFormat format) {
        return grpcBuilder(caller, format).build(BatchServiceGrpc.BatchServiceBlockingStub.class);
    }

    private static GrpcClientBuilder grpcBuilder(Caller caller, SerializationFormat format) {
        GrpcClientBuilder builder = GrpcClients.builder(caller.baseUri()).factory(caller.factory())
                .serializationFormat(format).responseTimeoutMillis(30_000);
        if (caller.authorization() != null) {
            builder.addHeader(HttpHeaderNames.AUTHORIZATION, caller.authorization());
        }
        if (caller.perRequest() != null) {
            builder.decorator((delegate, ctx, req) -> {
                var fresh = req.withHeaders(req.headers().toBuilder()
                        .set(HttpHeaderNames.AUTHORIZATION, caller.perRequest().get()));
                ctx.updateRequest(fresh);
                return delegate.execute(ctx, fresh);
            });
        }
        return builder;
    }

    private static Outcome http(Caller caller, String route, HttpMethod method, String path, String body) {
        RequestHeaders headers = RequestHeaders.builder(method, path).contentType(MediaType.JSON_UTF_8).build();
        AggregatedHttpResponse res = body == null
                ? web(caller).execute(headers).aggregate().join()
                : web(caller).execute(headers, body).aggregate().join();
        String message = "";
        if (res.status().code() >= 400) {
            assertThat(res.contentType()).as(route + " content type").isNotNull();
            assertThat(res.contentType().is(MediaType.JSON)).as(route + " answers JSON: " + res.contentUtf8()).isTrue();
            try {
                JsonNode json = JSON.readTree(res.contentUtf8());
                message = json.path("msg").asText();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new Outcome(route, false, res.status().code(), null, message,
                res.headers().get(HttpHeaderNames.WWW_AUTHENTICATE));
    }

    private static Outcome grpc(Caller caller, SerializationFormat format, String route,
                                Function<BatchServiceGrpc.BatchServiceBlockingStub, Object> call) {
        try {
            call.apply(stub(caller, format));
            return new Outcome(route, true, 0, Status.Code.OK, "", null);
        } catch (StatusRuntimeException e) {
            String description = e.getStatus().getDescription();
            return new Outcome(route, true, 0, e.getStatus().getCode(), description == null ? "" : description, null);
        }
    }

    private static Outcome reflection(Caller caller) {
        CompletableFuture<Status> done = new CompletableFuture<>();
        ServerReflectionGrpc.ServerReflectionStub stub = grpcBuilder(caller, GrpcSerializationFormats.PROTO)
                .build(ServerReflectionGrpc.ServerReflectionStub.class);
        StreamObserver<ServerReflectionRequest> requests = stub.serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse value) {
                if (value.getListServicesResponse().getServiceList().stream()
                        .anyMatch(s -> s.getName().equals(BatchServiceGrpc.SERVICE_NAME))) {
                    done.complete(Status.OK);
                }
            }

            @Override
            public void onError(Throwable t) {
                done.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                done.complete(Status.UNKNOWN.withDescription("completed without listing the services"));
            }
        });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
        try {
            Status status = done.get(30, TimeUnit.SECONDS);
            requests.onCompleted();
            return new Outcome("gRPC reflection", true, 0, status.getCode(),
                    status.getDescription() == null ? "" : status.getDescription(), null);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Submits SparkPi through the client, follows its log to the end: it succeeds and belongs to {@code owner}. */
    static void assertPiSucceedsOwnedBy(io.sparkgate.client.SparkgateClient client, String owner) {
        io.sparkgate.api.v1.Batch batch = client.submit(io.sparkgate.api.v1.CreateBatchRequest.newBuilder()
                .setFile(io.sparkgate.server.TestServer.EXAMPLES_JAR.toString())
                .setClassName("io.sparkgate.examples.SparkPi")
                .addArgs("2")
                .build());
        try (io.sparkgate.client.LogFollow log = client.followLog(batch.getId(), 0)) {
            log.forEachRemaining(line -> { });
            assertThat(log.finalState()).contains(io.sparkgate.api.v1.BatchState.BATCH_STATE_SUCCESS);
        }
        io.sparkgate.api.v1.Batch done = client.get(batch.getId());
        assertThat(done.getState()).isEqualTo(io.sparkgate.api.v1.BatchState.BATCH_STATE_SUCCESS);
        assertThat(done.getOwner()).isEqualTo(owner);
    }
}
