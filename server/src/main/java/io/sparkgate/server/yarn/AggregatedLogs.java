package io.sparkgate.server.yarn;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.logaggregation.ContainerLogsRequest;
import org.apache.hadoop.yarn.logaggregation.filecontroller.LogAggregationFileController;
import org.apache.hadoop.yarn.logaggregation.filecontroller.LogAggregationFileControllerFactory;

/**
 * A finished container's log files from YARN's log aggregation, read through Hadoop's own readers:
 * {@link LogAggregationFileControllerFactory} picks the controller (TFile or IndexedFile) and the
 * remote directory the cluster's configuration names, as {@code yarn logs} does, so whatever the
 * NodeManagers wrote is read the way they wrote it.
 *
 * <p>Stateless apart from the configuration; called from the driver-log thread only.
 */
final class AggregatedLogs {

    private final Configuration conf;
    private final LogAggregationFileControllerFactory factory;

    private AggregatedLogs(Configuration conf) {
        this.conf = conf;
        this.factory = new LogAggregationFileControllerFactory(conf);
    }

    /** The reader of the cluster's aggregated logs, if the configuration turns aggregation on. */
    static Optional<AggregatedLogs> of(Configuration conf) {
        requireNonNull(conf, "conf");
        if (!conf.getBoolean(YarnConfiguration.LOG_AGGREGATION_ENABLED,
                YarnConfiguration.DEFAULT_LOG_AGGREGATION_ENABLED)) {
            return Optional.empty();
        }
        return Optional.of(new AggregatedLogs(conf));
    }

    /**
     * The whole of one log file of a container, once the NodeManager has uploaded it.
     *
     * @param appOwner the user the application ran as (the remote directory is per user)
     * @return empty while the file is not (yet) among the aggregated logs
     * @throws IOException when the remote file system cannot be read
     */
    Optional<byte[]> read(String appId, String appOwner, String containerId, String fileName) throws IOException {
        ApplicationId app = ApplicationId.fromString(appId);
        LogAggregationFileController controller;
        try {
            controller = factory.getFileControllerForRead(app, appOwner);
        } catch (IOException e) {
            // No controller finds the application's directory: nothing uploaded yet (or ever).
            return Optional.empty();
        }
        ContainerLogsRequest request = new ContainerLogsRequest();
        request.setAppId(app);
        request.setAppOwner(appOwner);
        request.setContainerId(containerId);
        request.setLogTypes(Set.of(fileName));
        request.setBytes(Long.MAX_VALUE);
        request.setAppFinished(true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!controller.readAggregatedLogs(request, out)) {
            return Optional.empty();
        }
        return contents(out.toByteArray(), fileName);
    }

    /**
     * The file's bytes out of Hadoop's rendering ({@code LogToolUtils}): a header that ends with
     * {@code LogLength:<n>} and {@code LogContents:}, then exactly n bytes, then an end marker.
     */
    static Optional<byte[]> contents(byte[] rendered, String fileName) {
        String text = new String(rendered, StandardCharsets.ISO_8859_1); // one char per byte: indexes are offsets
        int type = text.indexOf("LogType:" + fileName + "\n");
        if (type < 0) {
            return Optional.empty();
        }
        int length = text.indexOf("LogLength:", type);
        int contents = text.indexOf("LogContents:\n", type);
        if (length < 0 || contents < 0 || contents < length) {
            return Optional.empty();
        }
        long n;
        try {
            n = Long.parseLong(text.substring(length + "LogLength:".length(), text.indexOf('\n', length)).trim());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        int start = contents + "LogContents:\n".length();
        int end = (int) Math.min(rendered.length, start + n);
        byte[] bytes = new byte[end - start];
        System.arraycopy(rendered, start, bytes, 0, bytes.length);
        return Optional.of(bytes);
    }
}
