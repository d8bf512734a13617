package io.sparkgate.server.api;

import io.sparkgate.server.batch.Batch;
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

    private record Entry(Batch batch, List<String> logTail, io.sparkgate.api.v1.Batch message) {}

    private final ConcurrentMap<Integer, Entry> entries = new ConcurrentHashMap<>();

    /** The message for {@code batch} carrying {@code logTail}. */
    io.sparkgate.api.v1.Batch of(Batch batch, List<String> logTail) {
        if (!batch.state().isFinal()) {
            return BatchMessages.toProto(batch, logTail);
        }
        Entry e = entries.get(batch.id());
        if (e != null && e.batch() == batch && e.logTail() == logTail) {
            return e.message();
        }
        io.sparkgate.api.v1.Batch message = BatchMessages.toProto(batch, logTail);
        if (entries.size() >= CAPACITY) {
            entries.clear();
        }
        entries.put(batch.id(), new Entry(batch, logTail, message));
        return message;
    }
}
