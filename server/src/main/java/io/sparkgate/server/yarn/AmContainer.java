package io.sparkgate.server.yarn;

import static java.util.Objects.requireNonNull;

/**
 * The ApplicationMaster's container of an application attempt; in cluster mode the driver runs in it.
 *
 * @param containerId e.g. {@code container_1700000000000_0001_01_000001}
 * @param nodeHttpAddress the NodeManager's web address, {@code host:port}
 * @param logUrl the container's log page (the batch's {@code driverLogUrl})
 */
public record AmContainer(String containerId, String nodeHttpAddress, String logUrl) {
    public AmContainer {
        requireNonNull(containerId, "containerId");
        requireNonNull(nodeHttpAddress, "nodeHttpAddress");
        requireNonNull(logUrl, "logUrl");
    }
}
