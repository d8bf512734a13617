package io.sparkgate.server.launch;

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

    /** How the application ended; only meaningful once {@link #hasEnded()}. */
    AppExit exit();
}
