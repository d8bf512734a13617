package io.sparkgate.server.batch;

import io.sparkgate.server.values.BatchState;

import java.util.List;

/**
 * The outlet of one log follower (a gRPC stream, an SSE response). Called from one thread at a time.
 */
public interface LogSink {

    /** Whether the client can take more now; when false, the sink calls {@link Subscription#wake()} once it can. */
    boolean isReady();

    /** Lines {@code firstOffset}, {@code firstOffset + 1}, … */
    void lines(long firstOffset, List<String> lines);

    /** The batch is final and every line has been sent: the last call. */
    void end(BatchState finalState);

    /** The feed cannot go on (e.g. the server is stopping): the last call. */
    void fail(Throwable cause);
}
