package io.sparkgate.client;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.LogLine;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.StreamBatchLogResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for one replica in the client's unit tests: a real gRPC server on loopback whose
 * batches are named after the replica, so a test sees which one answered. It can die in the middle
 * of a call, as a killed replica does. A fake: the proof against real servers is in the server
 * module's tests.
 */
final class FakeReplica implements AutoCloseable {

    /** A log of {@link #LOG_LINES} lines; a replica that {@link #diesAfterLines} drops the stream there. */
    static final int LOG_LINES = 10;

    private final String name;
    private final Server server;
    final List<CreateBatchRequest> creates = new CopyOnWriteArrayList<>();
    final List<Integer> streamsFrom = new CopyOnWriteArrayList<>();
    private volatile boolean dieOnCreate;
    private volatile int dieAfterLines = -1;

    FakeReplica(String name) {
        this.name = name;
        try {
            this.server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                    .addService(new Service()).build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String target() {
        return "127.0.0.1:" + server.getPort();
    }

    /** The next create is recorded, then the server fails it and stops. */
    void diesOnCreate() {
        dieOnCreate = true;
    }

    /** The next log stream sends lines up to {@code lines} (exclusive), then the server stops. */
    void diesAfterLines(int lines) {
        dieAfterLines = lines;
    }

    void stop() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }

    private final class Service extends BatchServiceGrpc.BatchServiceImplBase {
        @Override
        public void getBatch(GetBatchRequest request, StreamObserver<Batch> response) {
            response.onNext(Batch.newBuilder().setId(request.getId()).setName(name).build());
            response.onCompleted();
        }

        @Override
        public void createBatch(CreateBatchRequest request, StreamObserver<Batch> response) {
            creates.add(request);
            if (dieOnCreate) {
                // As a replica killed mid-call: the client sees UNAVAILABLE, and the server is gone.
                response.onError(Status.UNAVAILABLE.withDescription(name + " went away").asRuntimeException());
                new Thread(FakeReplica.this::stop).start();
                return;
            }
            response.onNext(Batch.newBuilder().setId(creates.size()).setName(name).build());
            response.onCompleted();
        }

        @Override
        public void streamBatchLog(StreamBatchLogRequest request, StreamObserver<StreamBatchLogResponse> response) {
            streamsFrom.add(request.getFrom());
            for (int offset = request.getFrom(); offset < LOG_LINES; offset++) {
                if (offset == dieAfterLines) {
                    // As a replica killed mid-stream: the client has these lines, the connection breaks.
                    response.onError(Status.UNAVAILABLE.withDescription(name + " went away").asRuntimeException());
                    new Thread(FakeReplica.this::stop).start();
                    return;
                }
                response.onNext(StreamBatchLogResponse.newBuilder().setLine(LogLine.newBuilder()
                        .setOffset(offset).setText(name + " line " + offset)).build());
            }
            response.onNext(StreamBatchLogResponse.newBuilder().setFinalState(BatchState.BATCH_STATE_SUCCESS).build());
            response.onCompleted();
        }
    }
}
