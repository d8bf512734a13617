package io.sparkgate.server.launch;

import io.sparkgate.server.values.BatchRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Optional;

/** Starts Spark applications. Implementations must not block longer than it takes to spawn a process. */
public interface Launcher {

    /**
     * Refuses, before anything is recorded, a request this launcher's Spark home cannot run at all
     * (e.g. a Python batch on a Spark home without Python).
     *
     * @throws io.sparkgate.server.batch.InvalidBatchRequestException naming what to change
     */
    default void check(BatchRequest request) {
    }

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

    /**
     * The tag a new application of this batch will be found by, for a launcher that finds its
     * applications by tag (YARN); empty for one that does not (local processes). Replicas record it in
     * the database before the launch, so that whichever replica takes the batch over finds the
     * application instead of launching it again.
     */
    default Optional<String> newTag(int batchId) {
        return Optional.empty();
    }

    /**
     * {@link #launch(int, BatchRequest, Path, Path, LaunchListener)} under the tag {@link #newTag} gave
     * (ignored by launchers without tags).
     */
    default LaunchedApp launch(int batchId, Optional<String> tag, BatchRequest request, Path workDir, Path outputFile,
                               LaunchListener listener) {
        return launch(batchId, request, workDir, outputFile, listener);
    }

    /**
     * Names of the small files this launcher keeps in a batch's directory that a replica taking the
     * batch over needs to go on where the previous holder stopped (YARN: the tag, and how far the
     * driver's log was read). Replicas copy them to the database with the batch's log lines.
     */
    default List<String> carriedFiles() {
        return List.of();
    }

    /**
     * Finds an application that an earlier server process launched and that was not known to have
     * ended, when this server starts. The returned handle is followed like a new one: its end (possibly
     * already past, {@link LaunchedApp#hasEnded()} true at once) gives the batch's final state, and
     * {@link LaunchedApp#kill()} stops it. Called before the server serves requests.
     *
     * @return the application, or empty when it is gone without a trace of how it ended (the batch
     *         then ends {@code dead}: "server restarted: driver process lost")
     */
    default Optional<LaunchedApp> reattach(RecordedLaunch recorded, LaunchListener listener) {
        return Optional.empty();
    }

    /**
     * Whether an earlier {@link #launch} into {@code workDir} got as far as starting a process, so that
     * recovery must look for its application rather than launch the batch again. Only the launcher knows
     * what it leaves behind.
     */
    default boolean leftTrace(Path workDir) {
        return Files.exists(workDir.resolve(SparkSubmitLauncher.PID_FILE));
    }
}
