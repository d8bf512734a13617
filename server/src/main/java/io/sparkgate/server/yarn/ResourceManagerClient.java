package io.sparkgate.server.yarn;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.yarn.api.records.ApplicationAttemptId;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.ContainerReport;
import org.apache.hadoop.yarn.exceptions.YarnException;

/**
 * The ResourceManager calls the {@link YarnTracker} makes; {@link YarnResourceManager} makes them with
 * Hadoop's {@code YarnClient}. Calls block (they are RPCs) and are made from the tracker's thread only.
 */
public interface ResourceManagerClient extends AutoCloseable {

    /** One RPC: every application that carries at least one of {@code tags} (filtered by the RM). */
    List<ApplicationReport> applicationsTagged(Set<String> tags) throws IOException, YarnException;

    /** The ApplicationMaster container of an attempt, when the RM still knows it. */
    Optional<ContainerReport> amContainer(ApplicationAttemptId attempt) throws IOException, YarnException;

    /** Asks the RM to kill an application. */
    void kill(ApplicationId appId) throws IOException, YarnException;

    @Override
    void close();
}
