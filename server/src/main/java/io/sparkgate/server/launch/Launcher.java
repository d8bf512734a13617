package io.sparkgate.server.launch;

import io.sparkgate.server.batch.BatchRequest;
import java.nio.file.Path;

/** Starts Spark applications. Implementations must not block longer than it takes to spawn a process. */
public interface Launcher {

    /**
     * Starts one application.
     *
     * @param batchId the batch the application belongs to
     * @param request what to run
     * @param workDir a directory of the batch's own where the launcher may keep files
     * @param outputFile where the application's stdout and stderr are appended, as written
     * @param listener told of the application's id
     * @return a handle to follow and kill the application
     * @throws LaunchException when the application cannot be started at all
     */
    LaunchedApp launch(int batchId, BatchRequest request, Path workDir, Path outputFile, LaunchListener listener);
}
