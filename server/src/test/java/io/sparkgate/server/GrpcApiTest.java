package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.grpc.GrpcClients;
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
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchServiceGrpc.BatchServiceBlockingStub;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.DeleteBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.ListBatchesResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The same batch API over native gRPC, as a polyglot microservice calls it. */
class GrpcApiTest {

    private static final Duration SPARK_APP_TIMEOUT = Duration.ofMinutes(3);
    private static final List<BatchState> FINAL = List.of(
            BatchState.BATCH_STATE_SUCCESS, BatchState.BATCH_STATE_DEAD, BatchState.BATCH_STATE_KILLED);

    @RegisterExtension
    static final TestServer server = new TestServer();

    private static BatchServiceBlockingStub batches;

    @BeforeAll
    static void startServer() {
        batches = GrpcClients.newClient(server.baseUrl(), BatchServiceBlockingStub.class);
    }

    @Test
    void piSucceedsOverGrpcWithItsResultInTheLog() {
        Batch created = batches.createBatch(CreateBatchRequest.newBuilder()
                .setFile(TestServer.EXAMPLES_JAR.toString())
                .setClassName("io.sparkgate.examples.SparkPi")
                .addArgs("4")
                .build());

        assertThat(created.getState()).isIn(BatchState.BATCH_STATE_STARTING, BatchState.BATCH_STATE_NOT_STARTED);
        BatchState state = awaitFinal(created.getId());

        assertThat(state).isEqualTo(BatchState.BATCH_STATE_SUCCESS);
        GetBatchLogResponse log = batches.getBatchLog(GetBatchLogRequest.newBuilder()
                .setId(created.getId()).setFrom(0).setSize(-1).build());
        assertThat(log.getLogList()).anySatisfy(line -> assertThat(line).startsWith("Pi is roughly 3."));
        Batch done = batches.getBatch(GetBatchRequest.newBuilder().setId(created.getId()).build());
        assertThat(done.getAppId()).startsWith("local-");
        assertThat(done.getStateHistoryList()).extracting(c -> c.getState()).containsSubsequence(
                BatchState.BATCH_STATE_STARTING, BatchState.BATCH_STATE_RUNNING, BatchState.BATCH_STATE_SUCCESS);
        assertThat(done.getStateHistoryList().get(done.getStateHistoryCount() - 1).getReason()).contains("exit");
        assertThat(batches.listBatches(ListBatchesRequest.getDefaultInstance()).getSessionsList())
                .extracting(Batch::getId).contains(created.getId());
    }

    @Test
    void errorsCarryMatchingStatusCodes() {
        assertThatThrownBy(() -> batches.getBatch(GetBatchRequest.newBuilder().setId(424242).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("Session '424242' not found.");
                });
        assertThatThrownBy(() -> batches.deleteBatch(DeleteBatchRequest.newBuilder().setId(424242).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> batches.createBatch(CreateBatchRequest.newBuilder().setClassName("x.Y").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("file");
                });
        assertThatThrownBy(() -> batches.listBatches(ListBatchesRequest.newBuilder().setFrom(-1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        // A negative size is no error: as on Livy, it means all batches.
        ListBatchesResponse all = batches.listBatches(ListBatchesRequest.newBuilder().setSize(-5).build());
        assertThat(all.getSessionsCount()).isEqualTo(all.getTotal());
    }

    @Test
    void healthAndReflectionServeGenericGrpcTools() throws Exception {
        HealthGrpc.HealthBlockingStub health = GrpcClients.newClient(server.baseUrl(), HealthGrpc.HealthBlockingStub.class);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

        ServerReflectionGrpc.ServerReflectionStub reflection =
                GrpcClients.newClient(server.baseUrl(), ServerReflectionGrpc.ServerReflectionStub.class);
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = reflection.serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        assertThat(answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList())
                .extracting(s -> s.getName()).contains(BatchServiceGrpc.SERVICE_NAME);
    }

    @Test
    void grpcWebCallersAndTheDocsConsoleShareThePort() {
        BatchServiceBlockingStub web = GrpcClients.builder(server.baseUrl())
                .serializationFormat(GrpcSerializationFormats.PROTO_WEB)
                .build(BatchServiceBlockingStub.class);
        // The same batches as over REST.
        assertThat(web.listBatches(ListBatchesRequest.getDefaultInstance()).getTotal())
                .isEqualTo(server.getJson("/batches?size=0").get("total").asInt());
        assertThatThrownBy(() -> web.getBatch(GetBatchRequest.newBuilder().setId(31337).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

        java.net.http.HttpResponse<String> docs = server.get("/docs/specification.json");
        assertThat(docs.statusCode()).isEqualTo(200);
        assertThat(docs.body()).contains("sparkgate.v1.BatchService", "CreateBatch", "SparkPi");
    }

    private static BatchState awaitFinal(int id) {
        BatchState[] state = new BatchState[1];
        await().atMost(SPARK_APP_TIMEOUT).pollInterval(Duration.ofMillis(250)).until(() -> {
            state[0] = batches.getBatchState(GetBatchStateRequest.newBuilder().setId(id).build()).getState();
            return FINAL.contains(state[0]);
        });
        return state[0];
    }
}
