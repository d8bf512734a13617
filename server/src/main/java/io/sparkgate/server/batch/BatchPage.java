package io.sparkgate.server.batch;

import io.sparkgate.server.values.Batch;

import java.util.List;
import java.util.Map;

/**
 * A page of the batch list: {@code batches} start at index {@code from} of {@code total}.
 *
 * <p>{@code passing}: the batches of the page that were read from the store for this page alone and not
 * kept by the server (a page deep in a long history is seldom asked for again; keeping its batches would
 * push out the ones clients do ask for again), by id, with the log tail recorded in the store. Show these
 * tails (a batch's own log tail would read it again, and keep it), and keep nothing built from these batches.
 */
public record BatchPage(int from, int total, List<Batch> batches, Map<Integer, List<String>> passing) {
    public BatchPage {
        batches = List.copyOf(batches);
        passing = Map.copyOf(passing);
    }
}
