package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How the server talks to YARN when {@code sparkgate.spark.master = yarn}.
 *
 * @param confDir directory with the cluster's {@code core-site.xml} / {@code yarn-site.xml}
 *                ({@code sparkgate.yarn.conf-dir}, else {@code HADOOP_CONF_DIR}, else {@code YARN_CONF_DIR});
 *                given to {@code spark-submit} as {@code HADOOP_CONF_DIR} and read by the server's YarnClient
 * @param hadoopConf Hadoop properties on top of {@code confDir} ({@code sparkgate.hadoop-conf.*}), for the
 *                   server's YarnClient and, as {@code spark.hadoop.*}, for every batch
 * @param pollInterval how often the one tracker asks the ResourceManager about all tracked batches
 * @param appLookupTimeout how long a batch may wait for its application to appear in YARN before it is dead
 * @param login the server's own Kerberos identity on a kerberized cluster ({@code sparkgate.yarn.principal}
 *              and {@code sparkgate.yarn.keytab}); empty on a cluster without Kerberos
 */
public record YarnSettings(
        Optional<Path> confDir,
        Map<String, String> hadoopConf,
        Duration pollInterval,
        Duration appLookupTimeout,
        Optional<KerberosLogin> login) {

    /**
     * A principal and the keytab with its keys, for the server's logins to YARN and HDFS.
     *
     * @param principal e.g. {@code sparkgate/gateway.example.com@EXAMPLE.COM}
     * @param keytab its keytab file
     */
    public record KerberosLogin(String principal, Path keytab) {
        public KerberosLogin {
            requireNonNull(principal, "principal");
            requireNonNull(keytab, "keytab");
        }
    }

    /** The settings without a Kerberos login. */
    public YarnSettings(Optional<Path> confDir, Map<String, String> hadoopConf, Duration pollInterval,
                        Duration appLookupTimeout) {
        this(confDir, hadoopConf, pollInterval, appLookupTimeout, Optional.empty());
    }

    public YarnSettings {
        requireNonNull(confDir, "confDir");
        hadoopConf = Map.copyOf(requireNonNull(hadoopConf, "hadoopConf"));
        requireNonNull(pollInterval, "pollInterval");
        requireNonNull(appLookupTimeout, "appLookupTimeout");
        requireNonNull(login, "login");
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("YARN poll interval must be > 0: " + pollInterval);
        }
    }

    /** No conf dir, no extra properties, a 1 s poll and a 120 s lookup timeout. */
    public static YarnSettings defaults() {
        return new YarnSettings(Optional.empty(), Map.of(), Duration.ofSeconds(1), Duration.ofSeconds(120));
    }
}
