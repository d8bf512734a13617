package org.apache.spark.launcher;

import java.io.IOException;

/**
 * Keeps SparkLauncher's one launcher server (the loopback socket applications connect back to) open for
 * the life of this JVM. SparkLauncher opens it on demand and closes it whenever its last handle is
 * disposed, so on a server whose batches run one after another every launch opened a new socket and
 * started two new threads (its accept loop, its timeout timer) on the path of the launch, which then
 * also competes for the CPU with the new {@code spark-submit}. Taking one reference of our own, once,
 * makes that a start-up cost. In SparkLauncher's own package because the server is package-private: a
 * class of ours here rather than reflection, so a Spark version that changes it fails the build, not a
 * launch.
 */
public final class LauncherServerPin {

    private static boolean pinned;

    private LauncherServerPin() {
    }

    /** Opens the launcher server if needed and holds it open from now on; idempotent. */
    public static synchronized void pin() throws IOException {
        if (!pinned) {
            LauncherServer.getOrCreateServer(); // takes a reference that is never given back
            pinned = true;
        }
    }
}
