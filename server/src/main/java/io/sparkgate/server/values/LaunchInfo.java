package io.sparkgate.server.values;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * What identifies a launched application's local process across server restarts: its pid and the
 * time that process started. A pid alone is not enough: after a reboot or a long time the same number
 * can belong to another process.
 *
 * @param pid the process to signal to stop the application (our {@code spark-submit} wrapper)
 * @param processStart when that process started, as the operating system reports it
 */
public record LaunchInfo(long pid, Instant processStart) {
    public LaunchInfo {
        requireNonNull(processStart, "processStart");
    }
}
