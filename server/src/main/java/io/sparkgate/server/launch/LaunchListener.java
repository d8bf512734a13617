package io.sparkgate.server.launch;

/** What a launched application tells its batch while it runs. Calls come from launcher threads. */
public interface LaunchListener {

    /**
     * The application runs (local mode: {@code spark-submit} is up; YARN: the application is RUNNING).
     * Called at most once; the end is told through {@link LaunchedApp#hasEnded()}.
     */
    void onRunning(String reason);

    /**
     * The application's process is gone, so {@link LaunchedApp#hasEnded()} can tell now: a hint to ask at
     * once rather than at the next poll. Not called by every launcher; at most once.
     */
    default void onExited() {
    }

    /** Spark (or the cluster manager) reported the application id. Called at most once. */
    void onAppId(String appId);

    /** Where the application's UI and driver log can be seen, as far as known (empty strings if not). */
    void onAppInfo(String sparkUiUrl, String driverLogUrl);
}
