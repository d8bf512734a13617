package io.sparkgate.server.api;

import io.sparkgate.api.v1.ListBatchesResponse;
import io.sparkgate.server.values.Batch;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The wire message of each recently served final batch, built once: a list page of finished batches
 * (the usual page) is then 100 lookups instead of 100 message builds, and the same message instance
 * each time lets {@link LivyJsonMarshaller} reuse its JSON too.
 *
 * <p>An entry is reused only for the very same batch and log tail instances it was built from: the
 * batch layer hands out one instance per version of a batch and of its tail, so a batch that changed
 * (a tail recorded after the final state, new app links) gets a new message. Live batches are not
 * kept: they change all the time. Any thread; bounded by {@value #CAPACITY} entries and {@value #PAGES}
 * list pages (all dropped at once when full: a cheap bound for a cache whose entries are rebuilt in
 * microseconds).
 */
final class FinalBatchMessages {

    static final int CAPACITY = 4096;
    /** List pages kept: the few that dashboards and pollers ask for again and again. */
    static final int PAGES = 64;

    private record Entry(Batch batch, List<String> logTail, io.sparkgate.api.v1.Batch message,
                         io.sparkgate.api.v1.Batch[] detailed) {}

    private final ConcurrentMap<Integer, Entry> entries = new ConcurrentHashMap<>();
    /** The last list page answered per (from, size asked): reused while it holds the very same messages. */
    private final ConcurrentMap<Long, ListBatchesResponse> pages = new ConcurrentHashMap<>();

    /** The message for {@code batch} carrying {@code logTail}, as a list page shows it. */
    io.sparkgate.api.v1.Batch of(Batch batch, List<String> logTail) {
        if (!batch.state().isFinal()) {
            return BatchMessages.toProto(batch, logTail);
        }
        return entry(batch, logTail).message();
    }

    /**
     * The message of {@code GetBatch}: the list's, with whether the caller may delete the batch and,
     * when they may read it, its request.
     */
    io.sparkgate.api.v1.Batch detailed(Batch batch, List<String> logTail, boolean mayDelete, boolean withRequest) {
        if (!batch.state().isFinal()) {
            return detail(BatchMessages.toProto(batch, logTail), batch, mayDelete, withRequest);
        }
        Entry e = entry(batch, logTail);
        int variant = (mayDelete ? 2 : 0) + (withRequest ? 1 : 0);
        io.sparkgate.api.v1.Batch message = e.detailed()[variant]; // a racing build makes an equal one: harmless
        if (message == null) {
            message = detail(e.message(), batch, mayDelete, withRequest);
            e.detailed()[variant] = message;
        }
        return message;
    }

    /**
     * A list page holding {@code sessions}: the same instance as last time when every message is the one
     * it held then (so {@link LivyJsonMarshaller} writes its JSON once), else a new one. Only pages of
     * final batches are kept, and only with {@code keep} (not a page of batches passing through, which
     * will not be the same messages next time); {@code sessions} is not modified.
     */
    ListBatchesResponse page(int from, int total, int sizeAsked, List<io.sparkgate.api.v1.Batch> sessions,
                             boolean keep) {
        long key = ((long) from << 32) | (sizeAsked & 0xffffffffL);
        ListBatchesResponse had = pages.get(key);
        if (had != null && had.getFrom() == from && had.getTotal() == total && same(had.getSessionsList(), sessions)) {
            return had;
        }
        ListBatchesResponse page = ListBatchesResponse.newBuilder().setFrom(from).setTotal(total)
                .addAllSessions(sessions).build();
        if (keep && sessions.stream().allMatch(m -> LivyJsonMarshaller.isFinal(m.getState()))) {
            if (pages.size() >= PAGES) {
                pages.clear();
            }
            pages.put(key, page);
        }
        return page;
    }

    private static boolean same(List<io.sparkgate.api.v1.Batch> a, List<io.sparkgate.api.v1.Batch> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    private static io.sparkgate.api.v1.Batch detail(io.sparkgate.api.v1.Batch message, Batch batch, boolean mayDelete,
                                                    boolean withRequest) {
        io.sparkgate.api.v1.Batch.Builder out = message.toBuilder().setMayDelete(mayDelete);
        if (withRequest) {
            out.setRequest(BatchMessages.toProto(batch.request()));
        }
        return out.build();
    }

    private Entry entry(Batch batch, List<String> logTail) {
        Entry e = entries.get(batch.id());
        if (e != null && e.batch() == batch && e.logTail() == logTail) {
            return e;
        }
        e = new Entry(batch, logTail, BatchMessages.toProto(batch, logTail), new io.sparkgate.api.v1.Batch[4]);
        if (entries.size() >= CAPACITY) {
            entries.clear();
        }
        entries.put(batch.id(), e);
        return e;
    }
}
