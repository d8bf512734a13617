package io.sparkgate.bench;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.grpc.GrpcService;
import io.grpc.stub.StreamObserver;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.GetBatchStateResponse;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.ListBatchesResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * The API phase's baseline: a bare Armeria server in its own JVM, started like the real one (same
 * {@code java}, no JVM options, {@code Server.builder().http(127.0.0.1:PORT)} with defaults), serving
 * constant payloads captured from the real server in the same run, so sizes are byte-identical:
 * <ul>
 *   <li>REST {@code GET /batches/{id}/state}, {@code GET /batches/{id}} and {@code GET /batches}: a plain HTTP service returning the
 *       captured JSON bytes, answered from the blocking task executor as the real (transcoded) service
 *       is ({@code useBlockingTaskExecutor(true)}), so the thread hop is in both;</li>
 *   <li>REST {@code POST /batches} (the burst phase's baseline): the request body read whole, then the captured
 *       {@code 201} answer of a real create, from the blocking task executor too;</li>
 *   <li>gRPC {@code GetBatchState} and {@code ListBatches}: the same {@code sparkgate.v1.BatchService}
 *       through a {@code GrpcService} with the real server's settings (all serialization formats,
 *       blocking task executor), answering the captured messages.</li>
 * </ul>
 * What the ratio then measures is Sparkgate's own work per request: HTTP/JSON transcoding and Livy
 * shaping (REST), the batch manager, the store and the log-tail reads of each Batch.
 *
 * <p>A separate process rather than an opt-in route inside the server: no production code changes,
 * and the baseline cannot share (or steal) the real server's caches, threads or heap.
 */
public final class BaselineServer {

    private BaselineServer() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path dir = Path.of(args[1]);
        byte[] stateJson = payload(dir, "state.json");
        byte[] listJson = payload(dir, "list.json");
        byte[] batchJson = payload(dir, "batch.json");
        byte[] createdJson = payload(dir, "created.json");
        GetBatchStateResponse state = GetBatchStateResponse.parseFrom(payload(dir, "state.pb"));
        ListBatchesResponse list = ListBatchesResponse.parseFrom(payload(dir, "list.pb"));

        GrpcService grpc = GrpcService.builder()
                .addService(new BatchServiceGrpc.BatchServiceImplBase() {
                    @Override
                    public void getBatchState(GetBatchStateRequest request, StreamObserver<GetBatchStateResponse> out) {
                        out.onNext(state);
                        out.onCompleted();
                    }

                    @Override
                    public void listBatches(ListBatchesRequest request, StreamObserver<ListBatchesResponse> out) {
                        out.onNext(list);
                        out.onCompleted();
                    }
                })
                .supportedSerializationFormats(GrpcSerializationFormats.values())
                .useBlockingTaskExecutor(true)
                .build();
        Server server = Server.builder()
                .http(new InetSocketAddress("127.0.0.1", port))
                .service(grpc)
                .service("/batches/{id}/state", (ctx, req) -> HttpResponse.of(CompletableFuture.supplyAsync(
                        () -> HttpResponse.of(HttpStatus.OK, MediaType.JSON, stateJson), ctx.blockingTaskExecutor())))
                .service("/batches/{id}", (ctx, req) -> HttpResponse.of(CompletableFuture.supplyAsync(
                        () -> HttpResponse.of(HttpStatus.OK, MediaType.JSON, batchJson), ctx.blockingTaskExecutor())))
                .service("/batches", (ctx, req) -> req.method() == HttpMethod.POST
                        ? HttpResponse.of(req.aggregate().thenApplyAsync(
                                body -> HttpResponse.of(HttpStatus.CREATED, MediaType.JSON, createdJson), ctx.blockingTaskExecutor()))
                        : HttpResponse.of(CompletableFuture.supplyAsync(
                                () -> HttpResponse.of(HttpStatus.OK, MediaType.JSON, listJson), ctx.blockingTaskExecutor())))
                .build();
        server.start().join();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> server.stop().join()));
        System.out.println("baseline listening on 127.0.0.1:" + server.activeLocalPort());
        Thread.currentThread().join();
    }

    /** A captured payload; empty when the phase that starts this baseline does not use it (not captured). */
    private static byte[] payload(Path dir, String name) throws IOException {
        Path file = dir.resolve(name);
        return Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
    }
}
