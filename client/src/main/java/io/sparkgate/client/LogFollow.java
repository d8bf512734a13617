package io.sparkgate.client;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.LogLine;
import io.sparkgate.api.v1.StreamBatchLogResponse;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.function.IntConsumer;

/**
 * A batch's log, line by line as it is written, as a blocking iterator. It ends when the batch is
 * final and its log drained; {@link #finalState()} then tells how the batch ended. Close it to stop
 * following early.
 *
 * <p>A stream that breaks with UNAVAILABLE (the server restarting, or a replica gone while the client
 * knows others) is opened again from the line after the last one returned, with the same backoff as a
 * read: line offsets are the same on every replica, so the caller sees each line once. Used by one
 * thread at a time, the caller's.
 */
public final class LogFollow implements Iterator<LogLine>, AutoCloseable {

    /** Opens the server stream from a line offset. */
    @FunctionalInterface
    interface Opener {
        Stream open(int from);
    }

    /** One open server stream and the context that cancels it. */
    record Stream(Context.CancellableContext context, Iterator<StreamBatchLogResponse> responses) {}

    private final Opener opener;
    private final IntConsumer pause;
    private final int attempts;
    private Stream stream;
    private volatile boolean closed;
    private int nextOffset;
    private LogLine next;
    private BatchState finalState;

    LogFollow(Opener opener, int from, IntConsumer pause, int attempts) {
        this.opener = opener;
        this.pause = pause;
        this.attempts = attempts;
        this.nextOffset = from;
        this.stream = open();
    }

    @Override
    public boolean hasNext() {
        if (next != null) {
            return true;
        }
        for (int failures = 0; ; ) {
            try {
                while (finalState == null && stream.responses().hasNext()) {
                    StreamBatchLogResponse r = stream.responses().next();
                    if (r.hasLine()) {
                        if (r.getLine().getOffset() < nextOffset) {
                            continue; // already returned before a reconnect
                        }
                        next = r.getLine();
                        nextOffset = next.getOffset() + 1;
                        return true;
                    }
                    finalState = r.getFinalState();
                }
                return false;
            } catch (StatusRuntimeException e) {
                failures++;
                if (closed || e.getStatus().getCode() != Status.Code.UNAVAILABLE || failures >= attempts) {
                    throw new SparkgateException(e);
                }
                stream.context().cancel(null);
                pause.accept(failures);
                stream = open();
            }
        }
    }

    private Stream open() {
        try {
            return opener.open(nextOffset);
        } catch (StatusRuntimeException e) {
            throw new SparkgateException(e);
        }
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
        closed = true;
        stream.context().cancel(null);
    }
}
