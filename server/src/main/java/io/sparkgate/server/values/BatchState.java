package io.sparkgate.server.values;

/** The life of a batch: NOT_STARTED (queued) → STARTING → RUNNING → SUCCESS | DEAD | KILLED. */
public enum BatchState {
    NOT_STARTED,
    STARTING,
    RUNNING,
    SUCCESS,
    DEAD,
    KILLED;

    /** The state's name in Livy's API and in Sparkgate's own words: {@code not_started}, {@code success}, ... */
    public String livyName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Final states never change again. */
    public boolean isFinal() {
        return this == SUCCESS || this == DEAD || this == KILLED;
    }
}
