package io.sparkgate.server.launch;

/** What a launched application tells its batch. Calls come from launcher threads. */
public interface LaunchListener {

    /** Spark reported the application id. Called at most once. */
    void onAppId(String appId);

    /** One line of the application's output (stdout and stderr of spark-submit, in order). */
    void onLogLine(String line);

    /** The application ended and its output is drained. Called exactly once, after every line. */
    void onExit(AppExit exit);
}
