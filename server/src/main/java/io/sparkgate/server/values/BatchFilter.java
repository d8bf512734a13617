package io.sparkgate.server.values;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.Set;

/**
 * Which batches a list holds and in which order: Livy's list (all, ascending id) with Sparkgate's
 * optional narrowing. Empty strings and an empty state set mean "any".
 *
 * @param visibleTo the access scope: only batches this user owns or runs as (proxy user); empty for all
 * @param states only batches in one of these states
 * @param nameContains only batches whose name contains this (case-sensitive)
 * @param owner only batches this user submitted
 * @param newestFirst descending id instead of Livy's ascending
 */
public record BatchFilter(Optional<String> visibleTo, Set<BatchState> states, String nameContains, String owner,
                          boolean newestFirst) {

    public BatchFilter {
        requireNonNull(visibleTo, "visibleTo");
        states = Set.copyOf(states);
        requireNonNull(nameContains, "nameContains");
        requireNonNull(owner, "owner");
    }

    /** Livy's list: every batch in {@code visibleTo}'s scope, oldest first. */
    public static BatchFilter all(Optional<String> visibleTo) {
        return new BatchFilter(visibleTo, Set.of(), "", "", false);
    }

    /** Whether this is Livy's plain list (no Sparkgate narrowing, Livy's order). */
    public boolean isPlain() {
        return states.isEmpty() && nameContains.isEmpty() && owner.isEmpty() && !newestFirst;
    }

    /** Whether {@code batch} belongs to the list (the same rule as the store's query). */
    public boolean matches(Batch batch) {
        return visibleTo.map(u -> u.equals(batch.owner()) || u.equals(batch.request().proxyUser())).orElse(true)
                && (states.isEmpty() || states.contains(batch.state()))
                && (nameContains.isEmpty() || batch.request().name().contains(nameContains))
                && (owner.isEmpty() || owner.equals(batch.owner()));
    }
}
