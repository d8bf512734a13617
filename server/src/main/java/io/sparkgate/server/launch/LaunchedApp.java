package io.sparkgate.server.launch;

import io.sparkgate.server.values.LaunchInfo;

import java.util.Optional;

/** A started application. */
public interface LaunchedApp {

    /**
     * Asks the application to stop: SIGTERM to its processes, SIGKILL after the grace period. Returns
     * at once; {@link #hasEnded()} turns true when the processes are gone.
     */
    void kill();

    /**
     * Whether the application's processes are gone, so that everything they wrote is in the output
     * file. Cheap: polled by the log tailer.
     */
    boolean hasEnded();

    /**
     * Stops following the application from this server and leaves it running: another replica holds
     * its batch now and follows it itself (a lease lost after a pause). Nothing about it is reported
     * from here any more. Returns at once. Nothing to do by default: a local driver is watched through
     * its process alone, which costs nothing once nobody listens.
     */
    default void release() {}

    /** How the application ended; only meaningful once {@link #hasEnded()}. */
    AppExit exit();

    /**
     * Whether the application can do without the server process that launched it from now on. One
     * started through SparkLauncher connects back to the launching JVM when its SparkContext starts,
     * a few seconds after its launch, and fails if nobody answers; so a stopping server waits for this
     * (within a bound) before it exits. True by default: nothing else depends on the launching process.
     */
    default boolean handedOver() {
        return true;
    }

    /**
     * The local process to find again after a server restart, once known; saved with the batch. Empty
     * for applications that are found another way (YARN: by tag and application id).
     */
    default Optional<LaunchInfo> launchInfo() {
        return Optional.empty();
    }
}
