package io.sparkgate.server.batch;

import io.sparkgate.server.values.StateChange;

/** The outlet of one state watcher. Called from one thread at a time. */
public interface StateSink {

    /** The batch entered a state (the first call tells the state it is in). */
    void change(StateChange change);

    /** The batch is final (its change was the last {@link #change}): the last call. */
    void end();

    /** The feed cannot go on (e.g. the server is stopping): the last call. */
    void fail(Throwable cause);
}
