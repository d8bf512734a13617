package io.sparkgate.server.values;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An immutable view of one batch at one moment. Only the batch package makes new ones (the {@code with*} methods), one per
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

    public Batch withState(StateChange change) {
        List<StateChange> next = new ArrayList<>(history);
        next.add(change);
        return new Batch(id, request, owner, appId, sparkUiUrl, driverLogUrl, next, createdTime);
    }

    public Batch withAppInfo(String newSparkUiUrl, String newDriverLogUrl) {
        return new Batch(id, request, owner, appId, newSparkUiUrl, newDriverLogUrl, history, createdTime);
    }

    public Batch withAppId(String newAppId) {
        return new Batch(id, request, owner, newAppId, sparkUiUrl, driverLogUrl, history, createdTime);
    }
}
