package io.sparkgate.server.batch;

import io.sparkgate.server.values.Batch;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Batches this server can answer about without a store round trip: a read-through cache in front of
 * the store, kept by {@link BatchManager}, which writes every change to the store first and then
 * here. A {@code GET /batches/{id}/state} poll or a list page of recent batches then costs no query
 * and no parse of the stored request.
 *
 * <p>What is cached, and why it stays right when several servers share one database:
 * <ul>
 *   <li><b>live batches this server owns</b> (created, launched or re-attached here): every change
 *       to them is made by this server, through {@link #wrote}, so the copy here is the newest;
 *       another server's live batch is never cached and always read from the store;</li>
 *   <li><b>final batches</b>, the most recently used {@value #FINAL_CAPACITY}: final states are final,
 *       and what may still change after one (the log tail once the application's output is drained,
 *       app links) is written by the batch's owner, through this cache. Only a delete by another
 *       server is not seen here: such a batch stays readable from this server until evicted.</li>
 * </ul>
 * A final batch read from the store is added only if no write happened since the read began
 * ({@link #stamp}), so a slow reader never puts back a batch just deleted or replaces a newer copy.
 *
 * <p>Thread safety: the live map is concurrent; the final batches (an access-ordered map) and the
 * write counter are guarded by {@code this}.
 */
final class BatchCache {

    /** Final batches kept: a few MB, the recent pages of the list and the batches clients still poll. */
    static final int FINAL_CAPACITY = 2048;

    /** A final batch and, once known, the last lines of its log. */
    record Final(Batch batch, List<String> logTail) {}

    private final ConcurrentMap<Integer, Batch> live = new ConcurrentHashMap<>();
    private final Map<Integer, Final> finals = new LinkedHashMap<>(FINAL_CAPACITY * 4 / 3 + 1, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Final> eldest) {
            return size() > FINAL_CAPACITY;
        }
    };
    private long writes;
    /**
     * Replicas: another server may delete a final batch at any time, unseen here, so no final batch
     * is kept (each read asks the shared database); live batches this server holds still are.
     */
    private volatile boolean shared;

    /** Whether another server shares the store (no final batch is kept then). */
    boolean isShared() {
        return shared;
    }

    /** Another server shares the store from now on (set once, before serving). */
    void shared() {
        shared = true;
        synchronized (this) {
            finals.clear();
        }
    }

    /** The newest copy of a batch, or null when the store must be asked. */
    Batch get(int id) {
        Batch b = live.get(id);
        if (b != null) {
            return b;
        }
        Final f = getFinal(id);
        return f == null ? null : f.batch();
    }

    /** A cached final batch, or null. */
    synchronized Final getFinal(int id) {
        return shared ? null : finals.get(id);
    }

    /** Taken before reading a batch from the store; handed back to {@link #loaded}. */
    synchronized long stamp() {
        return writes;
    }

    /** A final batch read from the store (with its log tail, or null) since {@code stamp}; others are not kept. */
    synchronized void loaded(long stamp, Batch batch, List<String> logTail) {
        if (stamp != writes || !batch.state().isFinal() || shared) {
            return;
        }
        Final had = finals.get(batch.id());
        if (had == null || (had.logTail() == null && logTail != null)) {
            finals.put(batch.id(), new Final(batch, logTail));
        }
    }

    /** The owner saved {@code batch} to the store. */
    void wrote(Batch batch) {
        synchronized (this) {
            writes++;
            if (batch.state().isFinal() && !shared) {
                Final had = finals.get(batch.id());
                finals.put(batch.id(), new Final(batch, had == null ? null : had.logTail()));
            }
        }
        if (batch.state().isFinal()) {
            live.remove(batch.id());
        } else {
            live.put(batch.id(), batch);
        }
    }

    /** The owner saved the final log tail of a final batch to the store. */
    synchronized void wroteLogTail(int id, List<String> logTail) {
        writes++;
        Final had = finals.get(id);
        if (had != null) {
            finals.put(id, new Final(had.batch(), logTail));
        }
    }

    /**
     * Replicas: another replica holds the batch now, so its changes are no longer made here: it is read
     * from the store from now on.
     */
    void released(int id) {
        synchronized (this) {
            writes++;
        }
        live.remove(id);
    }

    /** The batch was deleted from the store. */
    void deleted(int id) {
        synchronized (this) {
            writes++;
            finals.remove(id);
        }
        live.remove(id);
    }
}
