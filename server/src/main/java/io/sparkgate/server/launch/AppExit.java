package io.sparkgate.server.launch;

import static java.util.Objects.requireNonNull;

import java.util.OptionalInt;

/**
 * How an application ended.
 *
 * @param succeeded whether it ended well (exit code 0, or Spark's FINISHED when no code is known)
 * @param exitCode the process's exit code when known
 * @param reason a sentence for the batch's state history, e.g. "spark-submit exited with code 1"
 */
public record AppExit(boolean succeeded, OptionalInt exitCode, String reason) {
    public AppExit {
        requireNonNull(exitCode, "exitCode");
        requireNonNull(reason, "reason");
    }
}
