package io.sparkgate.client;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.DeleteBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.ListBatchesResponse;
import io.sparkgate.api.v1.StateChange;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.WatchBatchRequest;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A Java client of Sparkgate's gRPC API ({@code sparkgate.v1.BatchService}). Every failed call throws
 * {@link SparkgateException} with the gRPC status.
 *
 * <pre>{@code
 * try (SparkgateClient client = SparkgateClient.connect("localhost:8998")) {
 *     Batch batch = client.submit(CreateBatchRequest.newBuilder()
 *             .setFile("/path/app.jar").setClassName("com.example.Main").build());
 *     try (LogFollow log = client.followLog(batch.getId(), 0)) {
 *         log.forEachRemaining(line -> System.out.println(line.getText()));
 *         System.out.println(log.finalState().orElseThrow());
 *     }
 * }
 * }</pre>
 */
public final class SparkgateClient implements AutoCloseable {

    private final ManagedChannel channel;
    private final BatchServiceGrpc.BatchServiceBlockingStub stub;

    private SparkgateClient(ManagedChannel channel) {
        this.channel = channel;
        this.stub = BatchServiceGrpc.newBlockingStub(channel);
    }

    /** A client of the server at {@code target} ({@code host:port}), over plaintext HTTP/2. */
    public static SparkgateClient connect(String target) {
        requireNonNull(target, "target");
        return new SparkgateClient(ManagedChannelBuilder.forTarget(target).usePlaintext().build());
    }

    /** Records a batch and starts launching it; returns it as recorded. */
    public Batch submit(CreateBatchRequest request) {
        return call(() -> stub.createBatch(request));
    }

    /** One batch with its last log lines. */
    public Batch get(int id) {
        return call(() -> stub.getBatch(GetBatchRequest.newBuilder().setId(id).build()));
    }

    /** A batch's state alone. */
    public BatchState state(int id) {
        return call(() -> stub.getBatchState(GetBatchStateRequest.newBuilder().setId(id).build()).getState());
    }

    /** A page of batches in ascending id order. */
    public ListBatchesResponse list(int from, int size) {
        return call(() -> stub.listBatches(ListBatchesRequest.newBuilder().setFrom(from).setSize(size).build()));
    }

    /** A page of a batch's log; {@code size < 0} means all lines from {@code from}. */
    public GetBatchLogResponse log(int id, int from, int size) {
        return call(() -> stub.getBatchLog(GetBatchLogRequest.newBuilder().setId(id).setFrom(from).setSize(size).build()));
    }

    /** Kills the batch if it runs and removes it. */
    public void kill(int id) {
        call(() -> stub.deleteBatch(DeleteBatchRequest.newBuilder().setId(id).build()));
    }

    /** Follows a batch's log from line {@code from}: every line, live, until the batch ends. */
    public LogFollow followLog(int id, int from) {
        Context.CancellableContext context = Context.current().withCancellation();
        StreamBatchLogRequest request = StreamBatchLogRequest.newBuilder().setId(id).setFrom(from).build();
        Iterator<io.sparkgate.api.v1.StreamBatchLogResponse> responses;
        try {
            responses = context.call(() -> stub.streamBatchLog(request));
        } catch (StatusRuntimeException e) {
            throw new SparkgateException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return new LogFollow(context, responses);
    }

    /** The batch's current state, then each change until a final one, as a blocking iterator. */
    public Iterator<StateChange> watch(int id) {
        Iterator<StateChange> changes = stub.watchBatch(WatchBatchRequest.newBuilder().setId(id).build());
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return call(changes::hasNext);
            }

            @Override
            public StateChange next() {
                return call(changes::next);
            }
        };
    }

    private static <T> T call(Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw new SparkgateException(e);
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
