package io.sparkgate.server.yarn;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * A real YARN (one ResourceManager, one NodeManager) in the test JVM, on loopback, and a Hadoop conf
 * directory pointing at it, as {@code HADOOP_CONF_DIR} would on a real gateway machine.
 */
public final class MiniYarn implements AutoCloseable {

    private final MiniYARNCluster cluster;
    private final Path confDir;
    private final YarnClient client;

    private MiniYarn(MiniYARNCluster cluster, Path confDir, YarnClient client) {
        this.cluster = cluster;
        this.confDir = confDir;
        this.client = client;
    }

    public static MiniYarn start(Path workDir) {
        return start(workDir, java.util.Map.of());
    }

    /** A cluster with {@code extra} YARN properties on top of the test defaults. */
    public static MiniYarn start(Path workDir, java.util.Map<String, String> extra) {
        MiniYARNCluster cluster = startCluster(configuration(workDir, extra));
        Path confDir = writeConfDir(cluster, workDir.resolve("hadoop-conf"), "yarn-site.xml");
        YarnClient client = YarnClient.createYarnClient();
        client.init(new YarnConfiguration(cluster.getConfig()));
        client.start();
        return new MiniYarn(cluster, confDir, client);
    }

    /** The test defaults for a one-node cluster working in {@code workDir}, with {@code extra} on top. */
    static YarnConfiguration configuration(Path workDir, java.util.Map<String, String> extra) {
        YarnConfiguration conf = new YarnConfiguration();
        // The capacity scheduler needs its root queue spelt out, or it refuses every application.
        conf.set("yarn.scheduler.capacity.root.queues", "default");
        conf.set("yarn.scheduler.capacity.root.default.capacity", "100");
        conf.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
        conf.set("yarn.scheduler.capacity.root.default.user-limit-factor", "1");
        conf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "1.0");
        // A full disk on a CI machine would mark the only node unhealthy.
        conf.setFloat("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", 100f);
        conf.setBoolean("yarn.nodemanager.vmem-check-enabled", false);
        conf.setBoolean("yarn.nodemanager.pmem-check-enabled", false);
        conf.setInt("yarn.nodemanager.resource.memory-mb", 8192);
        conf.setInt("yarn.nodemanager.resource.cpu-vcores", 8);
        conf.setInt("yarn.scheduler.minimum-allocation-mb", 256);
        conf.set("yarn.resourcemanager.hostname", "localhost");
        conf.set("yarn.nodemanager.hostname", "localhost");
        conf.set("yarn.resourcemanager.bind-host", "127.0.0.1");
        conf.set("yarn.nodemanager.bind-host", "127.0.0.1");
        conf.set("yarn.nodemanager.local-dirs", workDir.resolve("nm-local").toString());
        conf.set("yarn.nodemanager.log-dirs", workDir.resolve("nm-logs").toString());
        conf.set("hadoop.tmp.dir", workDir.resolve("hadoop-tmp").toString());
        extra.forEach(conf::set);
        return conf;
    }

    /** A started cluster, once its ResourceManager has its port. */
    static MiniYARNCluster startCluster(YarnConfiguration conf) {
        MiniYARNCluster cluster = new MiniYARNCluster("sparkgate-test", 1, 1, 1);
        cluster.init(conf);
        cluster.start();
        await("ResourceManager port").atMost(Duration.ofMinutes(1)).until(() ->
                !cluster.getConfig().get(YarnConfiguration.RM_ADDRESS, "").endsWith(":0"));
        return cluster;
    }

    /**
     * The running cluster's configuration in {@code confDir} under each of {@code names}
     * ({@code core-site.xml}, {@code yarn-site.xml}), as a gateway machine's {@code HADOOP_CONF_DIR} has it.
     */
    static Path writeConfDir(MiniYARNCluster cluster, Path confDir, String... names) {
        try {
            Files.createDirectories(confDir);
            for (String name : names) {
                try (OutputStream out = Files.newOutputStream(confDir.resolve(name))) {
                    cluster.getConfig().writeXml(out);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return confDir;
    }

    /** A directory with yarn-site.xml for this cluster. */
    public Path confDir() {
        return confDir;
    }

    /** A client of the cluster, for asserting what YARN itself says. */
    public YarnClient client() {
        return client;
    }

    @Override
    public void close() {
        try {
            // Nothing of a test may keep running: kill whatever is left.
            for (var app : client.getApplications()) {
                if (!app.getYarnApplicationState().toString().matches("FINISHED|FAILED|KILLED")) {
                    client.killApplication(app.getApplicationId());
                }
            }
        } catch (Exception e) {
            // the cluster goes down next anyway
        }
        client.stop();
        cluster.stop();
    }
}
