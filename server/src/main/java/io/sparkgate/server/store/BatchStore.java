package io.sparkgate.server.store;

import io.sparkgate.server.batch.Batch;
import java.util.List;
import java.util.Optional;

/** Where batches are kept. Every write is complete when the method returns. */
public interface BatchStore extends AutoCloseable {

    /** A new batch id, never handed out before. */
    int nextId();

    /** Records a new batch or replaces the stored state of an existing one. */
    void save(Batch batch);

    Optional<Batch> get(int id);

    /** Up to {@code size} batches in ascending id order, skipping the first {@code from}. */
    List<Batch> list(int from, int size);

    int count();

    /** Forgets a batch; true when it existed. */
    boolean delete(int id);

    @Override
    default void close() {}
}
