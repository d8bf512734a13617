package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

/**
 * A replica's hold on one live batch, as the database granted it: writes fenced by it succeed only
 * while no one has claimed the batch since (the database's {@code lease_holder} and
 * {@code lease_epoch} are still these).
 *
 * @param batchId the batch
 * @param holder the replica ({@code sparkgate.replica.id})
 * @param epoch the batch's claim count when this replica claimed it
 */
public record Lease(int batchId, String holder, long epoch) {

    public Lease {
        requireNonNull(holder, "holder");
    }
}
