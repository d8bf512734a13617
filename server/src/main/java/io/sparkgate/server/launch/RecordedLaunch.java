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
 * @param tag the tag the application was launched under, as the database keeps it (replicas: the
 *            replica re-attaching it may not be the one that launched it, and has no batch directory
 *            of it); empty when unknown there
 */
public record RecordedLaunch(int batchId, Path workDir, Path outputFile, String appId, Optional<LaunchInfo> process,
                             Optional<String> tag) {
    public RecordedLaunch {
        requireNonNull(workDir, "workDir");
        requireNonNull(outputFile, "outputFile");
        requireNonNull(appId, "appId");
        requireNonNull(process, "process");
        requireNonNull(tag, "tag");
    }

    /** What a server of its own recorded: the tag, if any, is in the batch directory. */
    public RecordedLaunch(int batchId, Path workDir, Path outputFile, String appId, Optional<LaunchInfo> process) {
        this(batchId, workDir, outputFile, appId, process, Optional.empty());
    }
}
