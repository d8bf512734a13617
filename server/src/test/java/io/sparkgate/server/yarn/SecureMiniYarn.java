package io.sparkgate.server.yarn;

import static org.awaitility.Awaitility.await;

import io.sparkgate.server.security.TestKdc;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * A kerberized YARN (one ResourceManager, one NodeManager, {@code hadoop.security.authentication =
 * kerberos}) on loopback, its daemons logged in from the keytab of {@value #SERVICE} issued by the
 * {@link TestKdc}, which both share. It runs in a JVM of its own, as a real cluster does: Hadoop keeps one login user per
 * process, so daemons and a Sparkgate logged in as another principal cannot share one JVM (the daemons'
 * RPC servers would then accept tickets with the wrong keys).
 *
 * <p>The NodeManager launches containers with the DefaultContainerExecutor (as this process's OS user):
 * the LinuxContainerExecutor, which runs them as the application's user, needs a setuid binary built
 * for the machine.
 */
public final class SecureMiniYarn implements AutoCloseable {

    /** The principal of the ResourceManager and the NodeManager. */
    public static final String SERVICE = "yarn/localhost";
    private static final String READY = "ready";

    private final Process process;
    private final Path confDir;
    private YarnClient client;

    private SecureMiniYarn(Process process, Path confDir) {
        this.process = process;
        this.confDir = confDir;
    }

    /** Starts the cluster in {@code workDir} with {@code extra} properties (e.g. proxy-user rules) on top. */
    public static SecureMiniYarn start(Path workDir, TestKdc kdc, Map<String, String> extra) {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("hadoop.security.authentication", "kerberos");
        conf.put(YarnConfiguration.RM_PRINCIPAL, TestKdc.principal(SERVICE));
        conf.put(YarnConfiguration.RM_KEYTAB, kdc.keytab(SERVICE).toString());
        conf.put(YarnConfiguration.NM_PRINCIPAL, TestKdc.principal(SERVICE));
        conf.put(YarnConfiguration.NM_KEYTAB, kdc.keytab(SERVICE).toString());
        conf.putAll(extra);
        try {
            Files.createDirectories(workDir);
            Properties props = new Properties();
            props.putAll(conf);
            try (OutputStream out = Files.newOutputStream(workDir.resolve("cluster.properties"))) {
                props.store(out, null);
            }
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-opens=java.base/java.lang=ALL-UNNAMED",
                    "-Xmx512m", "-XX:+UseSerialGC",
                    "-Djava.security.krb5.conf=" + kdc.krb5Conf(),
                    "-cp", System.getProperty("java.class.path"),
                    SecureMiniYarn.class.getName(), workDir.toString()));
            // The daemons' log outlives the test's temporary directory: a failure is explained there.
            Path logDir = Path.of(System.getenv().getOrDefault("SPARKGATE_LOG_DIR", workDir.toString()));
            Files.createDirectories(logDir);
            Path clusterLog = logDir.resolve("secure-mini-yarn.log");
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(clusterLog.toFile())
                    .start();
            SecureMiniYarn yarn = new SecureMiniYarn(process, workDir.resolve("hadoop-conf"));
            await("the kerberized cluster").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.exists(workDir.resolve(READY)) || !process.isAlive());
            if (!process.isAlive()) {
                throw new IllegalStateException("the kerberized cluster did not start; see " + clusterLog);
            }
            return yarn;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The cluster side: started by {@link #start}, it runs until its parent closes its standard input. */
    public static void main(String[] args) throws Exception {
        Path workDir = Path.of(args[0]);
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(workDir.resolve("cluster.properties"))) {
            props.load(in);
        }
        Map<String, String> extra = new LinkedHashMap<>();
        props.stringPropertyNames().forEach(k -> extra.put(k, props.getProperty(k)));
        YarnConfiguration conf = MiniYarn.configuration(workDir, extra);
        UserGroupInformation.setConfiguration(conf);
        // MiniYARNCluster's daemons skip their own keytab logins (doSecureLogin is empty there): the
        // process logs in once, as both share one principal, before their RPC servers start.
        UserGroupInformation.loginUserFromKeytab(conf.get(YarnConfiguration.RM_PRINCIPAL),
                conf.get(YarnConfiguration.RM_KEYTAB));
        MiniYARNCluster cluster = MiniYarn.startCluster(conf);
        MiniYarn.writeConfDir(cluster, workDir.resolve("hadoop-conf"), "core-site.xml", "yarn-site.xml");
        Files.writeString(workDir.resolve(READY), "");
        try {
            while (System.in.read() >= 0) {
                // until the parent closes the pipe, or dies
            }
        } finally {
            cluster.stop();
            System.exit(0);
        }
    }

    /** A directory with core-site.xml and yarn-site.xml for this cluster. */
    public Path confDir() {
        return confDir;
    }

    /**
     * A client of the cluster, for asserting what YARN itself says; it acts as this JVM's Hadoop login
     * user (the Sparkgate under test logs in first).
     */
    public synchronized YarnClient client() {
        if (client == null) {
            Configuration conf = new YarnConfiguration();
            conf.addResource(new org.apache.hadoop.fs.Path(confDir.resolve("core-site.xml").toUri()));
            conf.addResource(new org.apache.hadoop.fs.Path(confDir.resolve("yarn-site.xml").toUri()));
            client = YarnClient.createYarnClient();
            client.init(conf);
            client.start();
        }
        return client;
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.stop();
        }
        try {
            process.getOutputStream().close();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
