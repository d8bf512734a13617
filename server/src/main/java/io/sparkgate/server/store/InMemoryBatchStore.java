package io.sparkgate.server.store;

import io.sparkgate.server.batch.Batch;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Batches in memory: lost when the server stops. */
public final class InMemoryBatchStore implements BatchStore {

    private final ConcurrentSkipListMap<Integer, Batch> batches = new ConcurrentSkipListMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    @Override
    public int nextId() {
        return ids.getAndIncrement();
    }

    @Override
    public void save(Batch batch) {
        batches.put(batch.id(), batch);
    }

    @Override
    public Optional<Batch> get(int id) {
        return Optional.ofNullable(batches.get(id));
    }

    @Override
    public List<Batch> list(int from, int size) {
        return batches.values().stream().skip(from).limit(size).toList();
    }

    @Override
    public int count() {
        return batches.size();
    }

    @Override
    public boolean delete(int id) {
        return batches.remove(id) != null;
    }
}
