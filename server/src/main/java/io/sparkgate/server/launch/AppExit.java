package io.sparkgate.server.launch;

import static java.util.Objects.requireNonNull;

import java.util.OptionalInt;

/**
 * How an application ended.
 *
 * @param outcome whether it ended well, failed, or was killed (YARN tells a kill apart from a failure)
 * @param exitCode the process's exit code when known
 * @param reason a sentence for the batch's state history, e.g. "spark-submit exited with code 1"
 */
public record AppExit(Outcome outcome, OptionalInt exitCode, String reason) {

    /** The three ways an application ends. */
    public enum Outcome { SUCCEEDED, FAILED, KILLED }

    public AppExit {
        requireNonNull(outcome, "outcome");
        requireNonNull(exitCode, "exitCode");
        requireNonNull(reason, "reason");
    }

    /**
     * An application that succeeded (exit code 0, or Spark's FINISHED when no code is known) or failed.
     */
    public AppExit(boolean succeeded, OptionalInt exitCode, String reason) {
        this(succeeded ? Outcome.SUCCEEDED : Outcome.FAILED, exitCode, reason);
    }

    /** Whether it ended well. */
    public boolean succeeded() {
        return outcome == Outcome.SUCCEEDED;
    }
}
