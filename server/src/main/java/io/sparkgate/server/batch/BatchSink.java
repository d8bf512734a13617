package io.sparkgate.server.batch;

import io.sparkgate.server.values.Batch;

/** The outlet of a watch of all batches. Called from one thread at a time. */
public interface BatchSink {

    /** Whether the client can take another batch now; when not, the feed waits for {@link Subscription#wake()}. */
    boolean isReady();

    /** A batch changed: this is it after the change. */
    void batch(Batch batch);

    /** The feed cannot go on (e.g. the server is stopping): the last call. */
    void fail(Throwable cause);
}
