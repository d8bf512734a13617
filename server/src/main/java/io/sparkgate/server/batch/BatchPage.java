package io.sparkgate.server.batch;

import io.sparkgate.server.values.Batch;

import java.util.List;

/** A page of the batch list: {@code batches} start at index {@code from} of {@code total}. */
public record BatchPage(int from, int total, List<Batch> batches) {
    public BatchPage {
        batches = List.copyOf(batches);
    }
}
