package io.sparkgate.server.launch;

/** A started application. */
public interface LaunchedApp {

    /**
     * Asks the application to stop: SIGTERM to its processes, SIGKILL after the grace period. Returns
     * at once; {@link LaunchListener#onExit} follows when the processes are gone.
     */
    void kill();
}
