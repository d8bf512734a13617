package io.sparkgate.server.batch;

import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.Text;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A request's conf keys that are no Spark property (not {@code spark.*}). As on Livy they are accepted,
 * and as spark-submit itself does with such keys they are ignored with a warning: they are dropped before
 * the launch (SparkLauncher refuses them), said in the first state's reason and as the first lines of the
 * batch's log. Real DAGs carry such keys (Hadoop keys written without {@code spark.hadoop.}, Livy's own
 * {@code livy.rsc.*}). The stored request keeps them, so an idempotent repeat still matches.
 */
final class LaunchableRequest {

    private LaunchableRequest() {}

    /** The ignored keys, sorted. */
    static List<String> ignoredConf(BatchRequest request) {
        return request.conf().keySet().stream().filter(k -> !k.startsWith("spark.")).sorted().toList();
    }

    /** The line of the batch log, and the words of the first reason, for one ignored key. */
    static String notice(String key) {
        return "ignoring non-Spark config property: " + Text.shown(key);
    }

    /** The request as launched: without the keys {@link #ignoredConf} names. */
    static BatchRequest launchable(BatchRequest request) {
        List<String> ignored = ignoredConf(request);
        if (ignored.isEmpty()) {
            return request;
        }
        Map<String, String> conf = new HashMap<>(request.conf());
        conf.keySet().removeAll(ignored);
        return request.withConf(conf);
    }
}
