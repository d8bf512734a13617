package io.sparkgate.server.api;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.stub.StreamObserver;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.DeleteBatchRequest;
import io.sparkgate.api.v1.DeleteBatchResponse;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.GetBatchStateResponse;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.ListBatchesResponse;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.batch.BatchManager;
import io.sparkgate.server.batch.BatchMetrics;
import io.sparkgate.server.metrics.LogStreamMetrics;
import io.sparkgate.server.batch.BatchPage;
import io.sparkgate.server.batch.Created;
import io.sparkgate.server.logs.LogPage;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.batch.LogSink;
import io.sparkgate.server.values.StateChange;
import io.sparkgate.server.batch.StateSink;
import io.sparkgate.api.v1.LogLine;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.StreamBatchLogResponse;
import io.sparkgate.api.v1.WatchBatchRequest;
import io.sparkgate.api.v1.BatchUpdate;
import io.sparkgate.api.v1.WatchBatchesRequest;
import io.sparkgate.server.values.BatchFilter;
import io.sparkgate.server.batch.BatchSink;
import io.grpc.Status;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.security.AccessPolicy;
import io.sparkgate.server.security.Caller;
import io.sparkgate.server.security.Callers;
import io.sparkgate.server.security.SubmissionPolicy;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The gRPC face of the batch API, and through transcoding its Livy REST face. Thin: it translates
 * messages and delegates to {@link BatchManager}; errors are mapped to statuses by
 * {@link LivyErrors#grpcExceptionHandler()}.
 *
 * <p>Just over 300 lines: one short method per RPC, the three streaming ones with their flow control.
 */
final class BatchGrpcService extends BatchServiceGrpc.BatchServiceImplBase {

    private final BatchManager manager;
    private final SubmissionPolicy submissions;
    private final AccessPolicy access;
    private final BatchMetrics metrics;
    private final LogStreamMetrics streams;
    private final FinalBatchMessages messages = new FinalBatchMessages();

    BatchGrpcService(BatchManager manager, SubmissionPolicy submissions, AccessPolicy access, BatchMetrics metrics,
                     LogStreamMetrics streams) {
        this.manager = requireNonNull(manager, "manager");
        this.submissions = requireNonNull(submissions, "submissions");
        this.access = requireNonNull(access, "access");
        this.metrics = requireNonNull(metrics, "metrics");
        this.streams = requireNonNull(streams, "streams");
    }

    @Override
    public void createBatch(CreateBatchRequest request, StreamObserver<io.sparkgate.api.v1.Batch> responses) {
        CompletableFuture<Created> created;
        try {
            Caller caller = caller();
            BatchRequest checked = submissions.check(BatchMessages.toDomain(request), caller);
            checked = checked.withProxyUser(access.runAs(caller, checked.proxyUser()));
            created = manager.createLater(checked, caller.user(), request.getRequestId());
        } catch (RuntimeException e) {
            metrics.submitted(BatchMetrics.Submission.REJECTED);
            throw e;
        }
        // The answer comes once the batch is recorded, from the thread that recorded it: this one is free
        // meanwhile. The context is this call's, whichever thread completes it.
        ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        created.whenComplete((done, failure) -> {
            if (failure != null) {
                metrics.submitted(BatchMetrics.Submission.REJECTED);
                responses.onError(failure instanceof CompletionException && failure.getCause() != null
                                  ? failure.getCause() : failure);
                return;
            }
            try {
                answerCreated(ctx, done, responses);
            } catch (RuntimeException e) {
                responses.onError(e);
            }
        });
    }

    private void answerCreated(ServiceRequestContext ctx, Created created, StreamObserver<io.sparkgate.api.v1.Batch> responses) {
        metrics.submitted(created.replayed() ? BatchMetrics.Submission.DEDUPLICATED : BatchMetrics.Submission.ACCEPTED);
        Batch batch = created.batch();
        if (ctx != null) {
            ctx.addAdditionalResponseHeader(HttpHeaderNames.LOCATION, "/batches/" + batch.id());
            if (!created.replayed()) {
                ctx.setAttr(LivyCreatedStatus.CREATED, true);
            }
        }
        reply(responses, BatchMessages.toProto(batch, manager.logTail(batch)));
    }

    @Override
    public void getBatch(GetBatchRequest request, StreamObserver<io.sparkgate.api.v1.Batch> responses) {
        Caller caller = caller();
        Batch batch = access.visible(caller, named(caller, request.getIdOrName(), request.getId()));
        reply(responses, messages.detailed(batch, logTail(caller, batch), access.canModify(caller, batch),
                access.canRead(caller, batch)));
    }

    @Override
    public void getBatchState(GetBatchStateRequest request, StreamObserver<GetBatchStateResponse> responses) {
        Caller caller = caller();
        Batch batch = access.visible(caller, named(caller, request.getIdOrName(), request.getId()));
        reply(responses, GetBatchStateResponse.newBuilder()
                .setId(batch.id())
                .setState(BatchMessages.toProto(batch.state()))
                .build());
    }

    @Override
    public void listBatches(ListBatchesRequest request, StreamObserver<ListBatchesResponse> responses) {
        Caller caller = caller();
        BatchPage page = manager.list(optional(request.hasFrom(), request.getFrom()),
                optional(request.hasSize(), request.getSize()),
                BatchMessages.toFilter(request, access.listScope(caller)));
        List<io.sparkgate.api.v1.Batch> sessions = new java.util.ArrayList<>(page.batches().size());
        for (Batch b : page.batches()) {
            List<String> passing = page.passing().get(b.id());
            sessions.add(passing == null ? messages.of(b, logTail(caller, b))
                    : BatchMessages.toProto(b, access.canRead(caller, b) ? passing : List.of()));
        }
        reply(responses, messages.page(page.from(), page.total(), request.hasSize() ? request.getSize() : -1, sessions,
                page.passing().isEmpty()));
    }

    @Override
    public void getBatchLog(GetBatchLogRequest request, StreamObserver<GetBatchLogResponse> responses) {
        Caller caller = caller();
        Batch batch = access.checkRead(caller, named(caller, request.getIdOrName(), request.getId()));
        LogPage page = manager.log(batch, optional(request.hasFrom(), request.getFrom()),
                                   optional(request.hasSize(), request.getSize()));
        reply(responses, GetBatchLogResponse.newBuilder()
                .setId(batch.id())
                .setFrom(Math.toIntExact(page.from()))
                .setTotal(Math.toIntExact(page.total()))
                .setSize(page.lines().size())
                .addAllLog(page.lines())
                .build());
    }

    @Override
    public void deleteBatch(DeleteBatchRequest request, StreamObserver<DeleteBatchResponse> responses) {
        Caller caller = caller();
        Batch batch = named(caller, request.getIdOrName(), request.getId());
        access.checkModify(caller, batch);
        manager.delete(batch.id(), caller.user());
        reply(responses, DeleteBatchResponse.newBuilder().setMsg("deleted").build());
    }

    @Override
    public void streamBatchLog(StreamBatchLogRequest request, StreamObserver<StreamBatchLogResponse> responses) {
        ServerCallStreamObserver<StreamBatchLogResponse> call =
                (ServerCallStreamObserver<StreamBatchLogResponse>) responses;
        OptionalInt from = optional(request.hasFrom(), request.getFrom());
        BatchManager.nonNegative("from", from, 0);
        Batch batch = access.checkRead(caller(), manager.get(request.getId()));
        clearRequestTimeout();
        LogStreamMetrics.Follower follower = streams.follower(LogStreamMetrics.Transport.GRPC);
        ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        if (ctx != null) {
            ctx.log().whenComplete().thenRun(follower::ended);
        }
        LateSubscription sub = new LateSubscription();
        call.setOnCancelHandler(() -> {
            sub.cancel();
            follower.ended();
        });
        call.setOnReadyHandler(sub::wake);
        try {
            sub.set(manager.followLog(batch, from, new GrpcLogSink(call, follower)));
        } catch (RuntimeException e) {
            follower.ended();
            throw e;
        }
    }

    @Override
    public void watchBatch(WatchBatchRequest request, StreamObserver<io.sparkgate.api.v1.StateChange> responses) {
        ServerCallStreamObserver<io.sparkgate.api.v1.StateChange> call =
                (ServerCallStreamObserver<io.sparkgate.api.v1.StateChange>) responses;
        Batch batch = access.checkRead(caller(), manager.get(request.getId()));
        clearRequestTimeout();
        LateSubscription sub = new LateSubscription();
        call.setOnCancelHandler(sub::cancel);
        sub.set(manager.watch(batch, new StateSink() {
            @Override
            public void change(StateChange change) {
                call.onNext(BatchMessages.toProto(change));
            }

            @Override
            public void end() {
                call.onCompleted();
            }

            @Override
            public void fail(Throwable cause) {
                call.onError(Status.UNAVAILABLE.withDescription("watch ended: " + cause.getMessage()).asException());
            }
        }));
    }

    @Override
    public void watchBatches(WatchBatchesRequest request, StreamObserver<BatchUpdate> responses) {
        ServerCallStreamObserver<BatchUpdate> call = (ServerCallStreamObserver<BatchUpdate>) responses;
        Caller caller = caller();
        clearRequestTimeout();
        LateSubscription sub = new LateSubscription();
        call.setOnCancelHandler(sub::cancel);
        call.setOnReadyHandler(sub::wake);
        sub.set(manager.watchAll(BatchFilter.all(access.listScope(caller)), new BatchSink() {
            @Override
            public boolean isReady() {
                return call.isReady() && !call.isCancelled();
            }

            @Override
            public void batch(Batch batch) {
                call.onNext(BatchUpdate.newBuilder().setBatch(BatchMessages.toProto(batch, List.of())).build());
            }

            @Override
            public void fail(Throwable cause) {
                call.onError(Status.UNAVAILABLE.withDescription("watch ended: " + cause.getMessage()).asException());
            }
        }));
    }

    /**
     * The batch a request names: by {@code id} (gRPC), or by the REST path segment, which is an id or,
     * as on Livy, a name (the newest batch of that name among those the caller may list).
     */
    private Batch named(Caller caller, String idOrName, int id) {
        return !idOrName.isEmpty() ? manager.get(idOrName, access.listScope(caller)) : manager.get(id);
    }

    /** The authenticated caller of this call, if they may use the server at all. */
    private Caller caller() {
        return access.admit(Callers.current());
    }

    /** The log lines a Batch object carries for this caller: none when the log is not theirs to read. */
    private List<String> logTail(Caller caller, Batch batch) {
        return access.canRead(caller, batch) ? manager.logTail(batch) : List.of();
    }

    /** Streams live as long as the batch: only the client's deadline limits them. */
    private static void clearRequestTimeout() {
        ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        if (ctx != null) {
            ctx.clearRequestTimeout();
        }
    }

    /** Log lines as gRPC messages, with gRPC's flow control: nothing is sent while the client is not ready. */
    private static final class GrpcLogSink implements LogSink {
        private final ServerCallStreamObserver<StreamBatchLogResponse> call;
        private final LogStreamMetrics.Follower follower;

        GrpcLogSink(ServerCallStreamObserver<StreamBatchLogResponse> call, LogStreamMetrics.Follower follower) {
            this.call = call;
            this.follower = follower;
        }

        @Override
        public boolean isReady() {
            return call.isReady() && !call.isCancelled();
        }

        @Override
        public void lines(long firstOffset, List<String> lines) {
            long offset = firstOffset;
            long bytes = 0;
            for (String text : lines) {
                StreamBatchLogResponse message = StreamBatchLogResponse.newBuilder()
                        .setLine(LogLine.newBuilder().setOffset(Math.toIntExact(offset++)).setText(text))
                        .build();
                call.onNext(message);
                bytes += message.getSerializedSize(); // memoized by the serialization just done
            }
            follower.sent(bytes);
        }

        @Override
        public void end(BatchState finalState) {
            call.onNext(StreamBatchLogResponse.newBuilder().setFinalState(BatchMessages.toProto(finalState)).build());
            call.onCompleted();
            follower.ended();
        }

        @Override
        public void fail(Throwable cause) {
            // UNAVAILABLE: the client may resume from its last offset, here or on another server.
            call.onError(Status.UNAVAILABLE.withDescription("log stream ended: " + cause.getMessage()).asException());
            follower.ended();
        }
    }

    private static <T> void reply(StreamObserver<T> responses, T message) {
        responses.onNext(message);
        responses.onCompleted();
    }

    private static OptionalInt optional(boolean present, int value) {
        return present ? OptionalInt.of(value) : OptionalInt.empty();
    }
}
