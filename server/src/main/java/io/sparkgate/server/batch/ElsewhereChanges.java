package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.store.BatchStamps;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.StoredBatch;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntPredicate;

/**
 * Replicas: the changes other replicas make to batches, for this server's watchers of all batches
 * ({@link BatchFeeds#watchAll}), which otherwise hear only of the changes made here. At each
 * {@link #poll} it reads a stamp of every live batch and of every batch newer than the newest it knew
 * (one light query: {@link BatchStore#stamps}); the batches whose stamps changed and that another
 * replica holds are read in full and handed to the watchers.
 *
 * <p>It polls whether or not anyone watches, so that a watcher arriving finds a baseline no older
 * than one poll and misses no change after its start (at worst it is told of one made just before);
 * without watchers only the stamps are read.
 *
 * <p>Threads: {@link #poll} runs on the replicas' scheduled thread only, which alone touches its fields.
 */
final class ElsewhereChanges {

    /** How often the stamps are read: what a watcher on another replica than the batch's waits at most. */
    static final long INTERVAL_MILLIS = 1000;

    private final BatchStore store;
    private final IntPredicate heldHere;
    private final BatchFeeds feeds;
    /** The stamps as last read; null before the first poll. */
    private Map<Integer, String> known;
    private int newest = -1;
    /**
     * The live batches last handed to the watchers, so that one deleted through another replica (its
     * row gone before this server read it) ends for them as deleted, as {@link BatchFeeds#poll} ends a
     * follow of it.
     */
    private final Map<Integer, Batch> sent = new HashMap<>();

    ElsewhereChanges(BatchStore store, IntPredicate heldHere, BatchFeeds feeds) {
        this.store = requireNonNull(store, "store");
        this.heldHere = requireNonNull(heldHere, "heldHere");
        this.feeds = requireNonNull(feeds, "feeds");
    }

    void poll() {
        BatchStamps now = store.stamps(known == null ? Integer.MAX_VALUE : newest);
        Map<Integer, String> before = known;
        known = now.stamps();
        newest = Math.max(newest, now.newest());
        sent.keySet().retainAll(known.keySet());
        if (before == null || !feeds.watchingAll()) {
            sent.clear();
            return;
        }
        List<Integer> changed = new ArrayList<>();
        now.stamps().forEach((id, stamp) -> {
            if (!Objects.equals(before.get(id), stamp) && !heldHere.test(id)) {
                changed.add(id);
            }
        });
        before.keySet().forEach(id -> {
            if (!now.stamps().containsKey(id) && !heldHere.test(id)) {
                changed.add(id); // ended (or removed) since: its final version, if it is still there
            }
        });
        if (changed.isEmpty()) {
            return;
        }
        changed.sort(null);
        Set<Integer> gone = new HashSet<>(changed);
        for (StoredBatch stored : store.getAll(changed)) {
            Batch batch = stored.batch();
            gone.remove(batch.id());
            feeds.changedElsewhere(batch);
            if (batch.state().isFinal()) {
                sent.remove(batch.id());
            } else {
                sent.put(batch.id(), batch);
            }
        }
        for (int id : gone) {
            Batch last = sent.remove(id);
            if (last != null) {
                feeds.changedElsewhere(last.withState(new StateChange(BatchState.KILLED, Instant.now(), "deleted")));
            }
        }
    }
}
