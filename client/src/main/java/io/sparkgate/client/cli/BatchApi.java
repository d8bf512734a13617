package io.sparkgate.client.cli;

import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.ListBatchesResponse;
import java.util.function.Consumer;

/** What the command line needs of a server, over gRPC (Sparkgate) or Livy's REST API (any Livy). */
interface BatchApi extends AutoCloseable {

    Batch submit(CreateBatchRequest request);

    Batch get(int id);

    ListBatchesResponse list(int from, int size);

    GetBatchLogResponse log(int id, int from, int size);

    void kill(int id);

    /** Calls {@code lines} with every line from {@code from} until the batch ends; returns its final state. */
    BatchState follow(int id, int from, Consumer<String> lines) throws InterruptedException;

    @Override
    void close();
}
