package io.sparkgate.server.launch;

import io.sparkgate.server.values.LaunchInfo;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What an earlier server process recorded about a batch's application, for {@link Launcher#reattach}.
 *
 * @param batchId the batch
 * @param workDir the batch's directory, as given to {@link Launcher#launch}
 * @param outputFile the file the application appends its output to
 * @param appId the application id reported so far; empty if none (a YARN launcher finds its
 *              application by it or by the batch's tag)
 * @param process the local process recorded at launch, if one was
 */
public record RecordedLaunch(int batchId, Path workDir, Path outputFile, String appId, Optional<LaunchInfo> process) {
    public RecordedLaunch {
        requireNonNull(workDir, "workDir");
        requireNonNull(outputFile, "outputFile");
        requireNonNull(appId, "appId");
        requireNonNull(process, "process");
    }
}
