package io.sparkgate.server.api;

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
 * kept: they change all the time. Any thread; bounded by {@value #CAPACITY} entries (all dropped at
 * once when full: a cheap bound for a cache whose entries are rebuilt in microseconds).
 */
final class FinalBatchMessages {

    static final int CAPACITY = 4096;

    private record Entry(Batch batch, List<String> logTail, io.sparkgate.api.v1.Batch message,
                         io.sparkgate.api.v1.Batch[] detailed) {}

    private final ConcurrentMap<Integer, Entry> entries = new ConcurrentHashMap<>();

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
