package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An immutable view of one batch at one moment. Only {@link BatchManager} makes new ones, one per
 * state change, so a reader never sees a half-updated batch.
 */
public record Batch(
        int id,
        BatchRequest request,
        String owner,
        String appId,
        String sparkUiUrl,
        String driverLogUrl,
        List<StateChange> history,
        Instant createdTime) {

    public Batch {
        requireNonNull(request, "request");
        requireNonNull(owner, "owner");
        requireNonNull(appId, "appId");
        requireNonNull(sparkUiUrl, "sparkUiUrl");
        requireNonNull(driverLogUrl, "driverLogUrl");
        history = List.copyOf(history);
        requireNonNull(createdTime, "createdTime");
        if (history.isEmpty()) {
            throw new IllegalArgumentException("a batch has at least one state");
        }
    }

    public BatchState state() {
        return lastChange().state();
    }

    public StateChange lastChange() {
        return history.get(history.size() - 1);
    }

    public Optional<String> appIdIfKnown() {
        return appId.isEmpty() ? Optional.empty() : Optional.of(appId);
    }

    Batch withState(StateChange change) {
        List<StateChange> next = new ArrayList<>(history);
        next.add(change);
        return new Batch(id, request, owner, appId, sparkUiUrl, driverLogUrl, next, createdTime);
    }

    Batch withAppInfo(String newSparkUiUrl, String newDriverLogUrl) {
        return new Batch(id, request, owner, appId, newSparkUiUrl, newDriverLogUrl, history, createdTime);
    }

    Batch withAppId(String newAppId) {
        return new Batch(id, request, owner, newAppId, sparkUiUrl, driverLogUrl, history, createdTime);
    }
}
