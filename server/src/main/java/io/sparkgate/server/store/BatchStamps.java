package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * A cheap fingerprint of batches, to find which changed without reading them: per batch, a stamp that
 * differs whenever what a watcher of all batches sees of it differs (its state, application id and
 * links), and the newest batch id there is.
 *
 * @param stamps per batch id its stamp; opaque, compared for equality only
 * @param newest the highest batch id recorded; -1 when there is none
 */
public record BatchStamps(Map<Integer, String> stamps, int newest) {

    public BatchStamps {
        stamps = Map.copyOf(requireNonNull(stamps, "stamps"));
    }
}
