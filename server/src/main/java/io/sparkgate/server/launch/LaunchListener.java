package io.sparkgate.server.launch;

/** What a launched application tells its batch while it runs. Calls come from launcher threads. */
public interface LaunchListener {

    /** Spark reported the application id. Called at most once. */
    void onAppId(String appId);
}
