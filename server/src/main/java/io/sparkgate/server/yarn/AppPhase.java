package io.sparkgate.server.yarn;

import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;

/** Where a YARN application is in its life, in the terms of a batch. */
public enum AppPhase {
    /** NEW, NEW_SAVING, SUBMITTED, ACCEPTED: waiting for its ApplicationMaster. */
    STARTING,
    /** RUNNING: the ApplicationMaster (in cluster mode, the driver) runs. */
    RUNNING,
    SUCCEEDED,
    FAILED,
    KILLED;

    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED || this == KILLED;
    }

    /**
     * The phase of YARN's (state, final status) pair. The final status decides only once YARN says
     * FINISHED (the application unregistered itself): FINISHED+SUCCEEDED is success, FINISHED with any
     * other status but KILLED is a failure (UNDEFINED: the application never said how it ended).
     */
    public static AppPhase of(YarnApplicationState state, FinalApplicationStatus finalStatus) {
        return switch (state) {
            case RUNNING -> RUNNING;
            case FINISHED -> switch (finalStatus) {
                case SUCCEEDED, ENDED -> SUCCEEDED;
                case KILLED -> KILLED;
                default -> FAILED;
            };
            case FAILED -> FAILED;
            case KILLED -> KILLED;
            // NEW, NEW_SAVING, SUBMITTED, ACCEPTED, and anything a later YARN adds before RUNNING.
            default -> STARTING;
        };
    }
}
