package io.sparkgate.server.api;

import com.google.protobuf.Timestamp;
import io.sparkgate.api.v1.AppInfo;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;

/** Translation between the wire messages and the domain, in one place. */
final class BatchMessages {

    private BatchMessages() {}

    static BatchRequest toDomain(CreateBatchRequest r) {
        return new BatchRequest(
                r.getFile(), r.getClassName(), r.getProxyUser(), r.getName(),
                r.getArgsList(), r.getJarsList(), r.getPyFilesList(), r.getFilesList(), r.getArchivesList(),
                r.getDriverMemory(), optional(r.hasDriverCores(), r.getDriverCores()),
                r.getExecutorMemory(), optional(r.hasExecutorCores(), r.getExecutorCores()),
                optional(r.hasNumExecutors(), r.getNumExecutors()),
                r.getQueue(), r.getConfMap());
    }

    static io.sparkgate.api.v1.Batch toProto(Batch b, List<String> logTail) {
        io.sparkgate.api.v1.Batch.Builder out = io.sparkgate.api.v1.Batch.newBuilder()
                .setId(b.id())
                .setState(toProto(b.state()))
                .addAllLog(logTail)
                .setCreatedTime(toProto(b.createdTime()));
        if (!b.request().name().isEmpty()) {
            out.setName(b.request().name());
        }
        if (!b.owner().isEmpty()) {
            out.setOwner(b.owner());
        }
        if (!b.request().proxyUser().isEmpty()) {
            out.setProxyUser(b.request().proxyUser());
        }
        b.appIdIfKnown().ifPresent(out::setAppId);
        AppInfo.Builder info = AppInfo.newBuilder();
        if (!b.driverLogUrl().isEmpty()) {
            info.setDriverLogUrl(b.driverLogUrl());
        }
        if (!b.sparkUiUrl().isEmpty()) {
            info.setSparkUiUrl(b.sparkUiUrl());
        }
        out.setAppInfo(info);
        for (StateChange c : b.history()) {
            out.addStateHistory(toProto(c));
        }
        return out.build();
    }

    static io.sparkgate.api.v1.StateChange toProto(StateChange c) {
        return io.sparkgate.api.v1.StateChange.newBuilder()
                .setState(toProto(c.state()))
                .setTime(toProto(c.time()))
                .setReason(c.reason())
                .build();
    }

    static io.sparkgate.api.v1.BatchState toProto(BatchState s) {
        return switch (s) {
            case NOT_STARTED -> io.sparkgate.api.v1.BatchState.BATCH_STATE_NOT_STARTED;
            case STARTING -> io.sparkgate.api.v1.BatchState.BATCH_STATE_STARTING;
            case RUNNING -> io.sparkgate.api.v1.BatchState.BATCH_STATE_RUNNING;
            case SUCCESS -> io.sparkgate.api.v1.BatchState.BATCH_STATE_SUCCESS;
            case DEAD -> io.sparkgate.api.v1.BatchState.BATCH_STATE_DEAD;
            case KILLED -> io.sparkgate.api.v1.BatchState.BATCH_STATE_KILLED;
        };
    }

    static Timestamp toProto(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    private static OptionalInt optional(boolean present, int value) {
        return present ? OptionalInt.of(value) : OptionalInt.empty();
    }
}
