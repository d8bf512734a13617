package io.sparkgate.client;

import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.LogLine;
import io.sparkgate.api.v1.StreamBatchLogResponse;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A batch's log, line by line as it is written, as a blocking iterator. It ends when the batch is
 * final and its log drained; {@link #finalState()} then tells how the batch ended. Close it to stop
 * following early.
 */
public final class LogFollow implements Iterator<LogLine>, AutoCloseable {

    private final Context.CancellableContext context;
    private final Iterator<StreamBatchLogResponse> responses;
    private LogLine next;
    private BatchState finalState;

    LogFollow(Context.CancellableContext context, Iterator<StreamBatchLogResponse> responses) {
        this.context = context;
        this.responses = responses;
    }

    @Override
    public boolean hasNext() {
        if (next != null) {
            return true;
        }
        try {
            while (finalState == null && responses.hasNext()) {
                StreamBatchLogResponse r = responses.next();
                if (r.hasLine()) {
                    next = r.getLine();
                    return true;
                }
                finalState = r.getFinalState();
            }
        } catch (StatusRuntimeException e) {
            throw new SparkgateException(e);
        }
        return false;
    }

    @Override
    public LogLine next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        LogLine line = next;
        next = null;
        return line;
    }

    /** How the batch ended, once the iterator is exhausted. */
    public Optional<BatchState> finalState() {
        return Optional.ofNullable(finalState);
    }

    @Override
    public void close() {
        context.cancel(null);
    }
}
