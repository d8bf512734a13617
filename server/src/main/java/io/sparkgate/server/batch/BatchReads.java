package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.logs.LogPage;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.StoredBatch;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchFilter;
import io.sparkgate.server.values.BatchNotFoundException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.IntPredicate;

/**
 * What the API reads of batches: one batch (by id, or by name as Livy's paths allow), pages of the list,
 * pages of a log, and the log tail a batch object carries. Reads go through the {@link BatchCache}
 * (live batches and recently read final ones) and fall back to the store, a page at a time; they never
 * change a batch, so any thread may call them.
 */
final class BatchReads {

    /** List positions whose batches are kept in the cache when a page reads them: half of what it holds. */
    static final int KEPT_PAGES_BELOW = BatchCache.FINAL_CAPACITY / 2;

    private final BatchStore store;
    private final BatchLogs logs;
    private final BatchCache cache;
    /** Whether a batch's application may still write to its log (killed, not yet gone). */
    private final IntPredicate stillWriting;

    BatchReads(BatchStore store, BatchLogs logs, BatchCache cache, IntPredicate stillWriting) {
        this.store = requireNonNull(store, "store");
        this.logs = requireNonNull(logs, "logs");
        this.cache = requireNonNull(cache, "cache");
        this.stillWriting = requireNonNull(stillWriting, "stillWriting");
    }

    Batch get(int id) {
        return current(id).orElseThrow(() -> new BatchNotFoundException(id));
    }

    /** See {@link BatchManager#get(String, Optional)}. */
    Batch get(String idOrName, Optional<String> visibleTo) {
        try {
            return get(Integer.parseInt(idOrName));
        } catch (NumberFormatException notANumber) {
            // Its current copy, as by id (the cache may hold a newer one than the store row read here).
            return store.findNewestNamed(idOrName, visibleTo).map(b -> get(b.id()))
                    .orElseThrow(() -> new BatchNotFoundException(idOrName));
        }
    }

    /** The newest copy of a batch: from the cache, else from the store (and cached when final). */
    Optional<Batch> current(int id) {
        Batch cached = cache.get(id);
        if (cached != null) {
            return Optional.of(cached);
        }
        return load(List.of(id)).stream().findFirst();
    }

    /** Reads batches from the store, keeping the final ones (with their log tails) in the cache. */
    private List<Batch> load(List<Integer> ids) {
        long stamp = cache.stamp();
        List<StoredBatch> stored = store.getAll(ids);
        List<Batch> out = new ArrayList<>(stored.size());
        for (StoredBatch s : stored) {
            cache.loaded(stamp, s.batch(), s.logTail().orElse(null));
            out.add(s.batch());
        }
        return out;
    }

    /** See {@link BatchManager#logTail}. */
    List<String> logTail(Batch batch, int lines) {
        int id = batch.id();
        if (batch.state().isFinal()) {
            BatchCache.Final cached = cache.getFinal(id);
            if (cached != null && cached.logTail() != null) {
                return cached.logTail();
            }
            if (cache.isShared()) {
                // Replicas: the batch may have run on another server; its recorded tail is in the database.
                Optional<List<String>> recorded = store.getAll(List.of(id)).stream().findFirst()
                        .flatMap(StoredBatch::logTail);
                if (recorded.isPresent()) {
                    return recorded.get();
                }
            }
            long stamp = cache.stamp();
            List<String> tail = logs.tail(id, lines);
            if (!stillWriting.test(id)) {
                cache.loaded(stamp, batch, tail);
            }
            return tail;
        }
        return logs.tail(id, lines);
    }

    /**
     * One query for a page of cached batches (the page's ids with the total); two more (rows with their
     * log tails, histories) for the batches not cached, all of them at once. Those are kept in the cache
     * for a page near the start of the list ({@value #KEPT_PAGES_BELOW} positions: the pages dashboards and
     * pollers ask for again and again); deeper, they only pass through (see {@link BatchPage#passing}).
     */
    BatchPage list(int start, int count, BatchFilter filter) {
        BatchStore.PageIds idPage = store.page(filter, start, count);
        List<Integer> ids = idPage.ids();
        int total = idPage.total();
        Map<Integer, Batch> found = new HashMap<>(ids.size() * 2);
        List<Integer> missing = new ArrayList<>();
        for (int id : ids) {
            Batch cached = cache.get(id);
            if (cached != null) {
                found.put(id, cached);
            } else {
                missing.add(id);
            }
        }
        Map<Integer, List<String>> passing = new HashMap<>();
        if (!missing.isEmpty() && start < KEPT_PAGES_BELOW) {
            load(missing).forEach(b -> found.put(b.id(), b));
        } else if (!missing.isEmpty()) {
            for (StoredBatch s : store.getAll(missing)) {
                found.put(s.batch().id(), s.batch());
                // A batch without a recorded tail is shown with its own (read from its log, and kept).
                s.logTail().ifPresent(tail -> passing.put(s.batch().id(), tail));
            }
        }
        List<Batch> page = new ArrayList<>(ids.size());
        for (int id : ids) {
            Batch b = found.get(id);
            if (b != null) { // else deleted between the two reads
                page.add(b);
            }
        }
        return new BatchPage(start, total, page, passing);
    }

    /** See {@link BatchManager#log}. */
    LogPage log(Batch batch, OptionalInt from, OptionalInt size, int defaultSize) {
        int id = batch.id();
        int count = size.orElse(defaultSize);
        long start;
        if (from.isPresent() && from.getAsInt() >= 0) {
            start = from.getAsInt();
        } else {
            start = count < 0 ? 0 : Math.max(0, logs.total(id) - count);
        }
        return logs.read(id, start, count);
    }
}
