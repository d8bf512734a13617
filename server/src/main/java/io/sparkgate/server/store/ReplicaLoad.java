package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * What the other replicas sharing a database have admitted, as the database says now: their launched
 * batches (starting, and starting or running), in all and per user, and the batches waiting that
 * nobody holds. A replica adds these to its own counts, so admission limits hold across replicas.
 *
 * @param starting batches other replicas hold that are starting
 * @param launched batches other replicas hold that are starting or running
 * @param startingByUser {@code starting} per user (batch owner)
 * @param launchedByUser {@code launched} per user
 * @param waiting batches waiting to start that no live replica holds, or another one holds
 */
public record ReplicaLoad(int starting, int launched, Map<String, Integer> startingByUser,
                          Map<String, Integer> launchedByUser, int waiting) {

    public static final ReplicaLoad NONE = new ReplicaLoad(0, 0, Map.of(), Map.of(), 0);

    public ReplicaLoad {
        startingByUser = Map.copyOf(requireNonNull(startingByUser, "startingByUser"));
        launchedByUser = Map.copyOf(requireNonNull(launchedByUser, "launchedByUser"));
    }
}
