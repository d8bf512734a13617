package io.sparkgate.server.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Every batch id of the embedded store, in order, so that a page of the whole list anywhere in it is an
 * array slice: H2 answers {@code ORDER BY id LIMIT ? OFFSET ?} by walking its primary index row by
 * row, reading every skipped row (request, log tail) from its file, so a page 100,000 batches deep
 * cost 0.15-1 s where the first one costs a millisecond. Four bytes per batch.
 *
 * <p>Only for H2, whose file one server process holds alone (H2 locks it): every insert and delete of
 * rows goes through this process's store, which tells the index after each commit. Servers sharing
 * PostgreSQL insert rows each other's index would not see; there the page stays a query (an index-only
 * scan of the primary key). Loaded once, in the background right after the store opens (or on first need,
 * {@link #page}, whichever comes first) by one scan of an index holding the ids alone (V40); pages asked
 * for meanwhile wait for that one scan.
 *
 * <p>Thread safety: all state is guarded by {@code this}, but the load's query runs outside it, so
 * commits are not held up meanwhile: what they report during the load is kept ({@code pending}) and
 * replayed onto what the load read. Adding an id already present and removing one absent are no-ops, so
 * a commit the load's query also saw is harmless.
 */
final class IdIndex {

    private int[] ids;
    private int size;
    /** While loading: the load's completion, and the commits reported meanwhile ({+1|-1, id}). */
    private CompletableFuture<Void> loading;
    private List<int[]> pending;

    /**
     * Loads the ids by {@code load} (every id committed, in any order) unless loaded; waits for a load under
     * way. The store calls it once right after opening, on a thread of its own, so that the first deep page
     * finds it loaded.
     */
    void ensureLoaded(Supplier<List<Integer>> load) {
        CompletableFuture<Void> done;
        boolean mine = false;
        synchronized (this) {
            if (ids != null) {
                return;
            }
            if (loading == null) {
                loading = new CompletableFuture<>();
                pending = new ArrayList<>();
                mine = true;
            }
            done = loading;
        }
        if (mine) {
            try {
                List<Integer> all = load.get();
                int[] read = new int[all.size()];
                for (int i = 0; i < read.length; i++) {
                    read[i] = all.get(i);
                }
                Arrays.sort(read); // in any order: the load need not sort (already sorted costs little here)
                synchronized (this) {
                    int[] loaded = new int[Math.max(16, read.length + read.length / 4)];
                    int n = 0;
                    for (int id : read) {
                        if (n == 0 || id > loaded[n - 1]) {
                            loaded[n++] = id;
                        }
                    }
                    ids = loaded;
                    size = n;
                    for (int[] change : pending) {
                        if (change[0] > 0) {
                            added(change[1]);
                        } else {
                            removed(change[1]);
                        }
                    }
                    pending = null;
                    loading = null;
                }
                done.complete(null);
            } catch (RuntimeException e) {
                synchronized (this) {
                    pending = null;
                    loading = null; // the next page tries again
                }
                done.completeExceptionally(e);
                throw e;
            }
            return;
        }
        try {
            done.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    synchronized boolean isLoaded() {
        return ids != null;
    }

    /**
     * Up to {@code count} ids from position {@code from} (0 the lowest id; with {@code newestFirst}, 0
     * the highest), and how many there are.
     */
    BatchStore.PageIds page(int from, int count, boolean newestFirst, Supplier<List<Integer>> load) {
        ensureLoaded(load);
        synchronized (this) {
            int n = Math.max(0, Math.min(count < 0 ? Integer.MAX_VALUE : count, size - Math.max(0, from)));
            List<Integer> page = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int pos = from + i;
                page.add(ids[newestFirst ? size - 1 - pos : pos]);
            }
            return new BatchStore.PageIds(page, size);
        }
    }

    /** A row with this id was committed. */
    synchronized void added(int id) {
        if (ids == null) {
            if (pending != null) {
                pending.add(new int[] {+1, id});
            }
            return; // not loaded: the load will read it
        }
        if (size == 0 || id > ids[size - 1]) {
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, size + size / 2 + 16);
            }
            ids[size++] = id;
            return;
        }
        int at = Arrays.binarySearch(ids, 0, size, id);
        if (at >= 0) {
            return;
        }
        int pos = -at - 1;
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size + size / 2 + 16);
        }
        System.arraycopy(ids, pos, ids, pos + 1, size - pos);
        ids[pos] = id;
        size++;
    }

    /** The row with this id was deleted. */
    synchronized void removed(int id) {
        if (ids == null) {
            if (pending != null) {
                pending.add(new int[] {-1, id});
            }
            return;
        }
        int at = Arrays.binarySearch(ids, 0, size, id);
        if (at >= 0) {
            System.arraycopy(ids, at + 1, ids, at, size - at - 1);
            size--;
        }
    }
}
