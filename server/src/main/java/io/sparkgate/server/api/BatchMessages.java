package io.sparkgate.server.api;

import com.google.protobuf.Timestamp;
import io.sparkgate.api.v1.AppInfo;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.server.values.BatchFilter;
import io.sparkgate.server.values.InvalidBatchRequestException;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
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

    /** The request as the batch page shows it (no request id: that is the client's key, not the batch's). */
    static CreateBatchRequest toProto(BatchRequest r) {
        CreateBatchRequest.Builder out = CreateBatchRequest.newBuilder()
                .setFile(r.file()).setClassName(r.className()).setProxyUser(r.proxyUser()).setName(r.name())
                .addAllArgs(r.args()).addAllJars(r.jars()).addAllPyFiles(r.pyFiles()).addAllFiles(r.files())
                .addAllArchives(r.archives()).setDriverMemory(r.driverMemory()).setExecutorMemory(r.executorMemory())
                .setQueue(r.queue()).putAllConf(r.conf());
        r.driverCores().ifPresent(out::setDriverCores);
        r.executorCores().ifPresent(out::setExecutorCores);
        r.numExecutors().ifPresent(out::setNumExecutors);
        return out.build();
    }

    /**
     * The list a {@code ListBatches} call asks for, within the caller's scope. States by their REST names,
     * one per value or comma-separated.
     */
    static BatchFilter toFilter(ListBatchesRequest r, Optional<String> visibleTo) {
        Set<BatchState> states = EnumSet.noneOf(BatchState.class);
        for (String value : r.getStateList()) {
            for (String name : value.split(",", -1)) {
                String trimmed = name.trim();
                try {
                    states.add(BatchState.valueOf(trimmed.toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new InvalidBatchRequestException("'state' must be one of not_started, starting, running, "
                            + "success, dead, killed; got '" + LivyJsonMarshaller.abbreviate(trimmed) + "'");
                }
            }
        }
        boolean newestFirst = switch (r.getOrder()) {
            case "", "asc" -> false;
            case "desc" -> true;
            default -> throw new InvalidBatchRequestException("'order' must be 'asc' or 'desc', got '"
                    + LivyJsonMarshaller.abbreviate(r.getOrder()) + "'");
        };
        return new BatchFilter(visibleTo, states, r.getName(), r.getOwner(), newestFirst);
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
