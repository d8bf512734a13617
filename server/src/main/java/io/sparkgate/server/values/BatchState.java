package io.sparkgate.server.values;

/** The life of a batch: NOT_STARTED (queued) → STARTING → RUNNING → SUCCESS | DEAD | KILLED. */
public enum BatchState {
    NOT_STARTED,
    STARTING,
    RUNNING,
    SUCCESS,
    DEAD,
    KILLED;

    /** Final states never change again. */
    public boolean isFinal() {
        return this == SUCCESS || this == DEAD || this == KILLED;
    }
}
