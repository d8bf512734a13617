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
 */
public record YarnSettings(
        Optional<Path> confDir,
        Map<String, String> hadoopConf,
        Duration pollInterval,
        Duration appLookupTimeout) {

    public YarnSettings {
        requireNonNull(confDir, "confDir");
        hadoopConf = Map.copyOf(requireNonNull(hadoopConf, "hadoopConf"));
        requireNonNull(pollInterval, "pollInterval");
        requireNonNull(appLookupTimeout, "appLookupTimeout");
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("YARN poll interval must be > 0: " + pollInterval);
        }
    }

    /** No conf dir, no extra properties, a 1 s poll and a 120 s lookup timeout. */
    public static YarnSettings defaults() {
        return new YarnSettings(Optional.empty(), Map.of(), Duration.ofSeconds(1), Duration.ofSeconds(120));
    }
}
