package io.sparkgate.server.yarn;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.YarnSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.api.protocolrecords.GetApplicationsRequest;
import org.apache.hadoop.yarn.api.records.ApplicationAttemptId;
import org.apache.hadoop.yarn.api.records.ApplicationAttemptReport;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.ContainerReport;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.exceptions.YarnException;

/** {@link ResourceManagerClient} over Hadoop's {@link YarnClient}. */
public final class YarnResourceManager implements ResourceManagerClient {

    /**
     * The YARN client retries a lost ResourceManager for 15 minutes by default, all that time on the
     * tracker's one thread. Give up sooner, unless the cluster's own files say otherwise: the next poll
     * tries again anyway.
     */
    private static final String CONNECT_MAX_WAIT = "yarn.resourcemanager.connect.max-wait.ms";

    private final YarnClient client;

    private YarnResourceManager(YarnClient client) {
        this.client = client;
    }

    /** Connects (lazily: the first call opens the connection) with the configured Hadoop client config. */
    public static YarnResourceManager connect(YarnSettings settings) {
        requireNonNull(settings, "settings");
        YarnConfiguration conf = hadoopConfiguration(settings);
        YarnClient client = YarnClient.createYarnClient();
        client.init(conf);
        client.start();
        return new YarnResourceManager(client);
    }

    /** The Hadoop configuration from the conf dir's site files and the configured overrides. */
    static YarnConfiguration hadoopConfiguration(YarnSettings settings) {
        YarnConfiguration conf = new YarnConfiguration();
        settings.confDir().ifPresent(dir -> {
            for (String name : List.of("core-site.xml", "hdfs-site.xml", "yarn-site.xml")) {
                Path file = dir.resolve(name);
                if (Files.isRegularFile(file)) {
                    conf.addResource(new org.apache.hadoop.fs.Path(file.toUri()));
                }
            }
        });
        if (fromDefaultsOnly(conf, CONNECT_MAX_WAIT)) {
            conf.set(CONNECT_MAX_WAIT, "30000");
        }
        settings.hadoopConf().forEach(conf::set);
        return conf;
    }

    private static boolean fromDefaultsOnly(Configuration conf, String key) {
        String[] sources = conf.getPropertySources(key);
        return sources == null || Arrays.stream(sources).allMatch(s -> s.endsWith("-default.xml"));
    }

    @Override
    public List<ApplicationReport> applicationsTagged(Set<String> tags) throws IOException, YarnException {
        GetApplicationsRequest request = GetApplicationsRequest.newInstance();
        request.setApplicationTags(tags);
        return client.getApplications(request);
    }

    @Override
    public Optional<ContainerReport> amContainer(ApplicationAttemptId attempt) throws IOException, YarnException {
        ApplicationAttemptReport report = client.getApplicationAttemptReport(attempt);
        if (report == null || report.getAMContainerId() == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(client.getContainerReport(report.getAMContainerId()));
    }

    @Override
    public void kill(ApplicationId appId) throws IOException, YarnException {
        client.killApplication(appId, "killed by Sparkgate");
    }

    @Override
    public void close() {
        client.stop();
    }
}
