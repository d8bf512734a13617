package io.sparkgate.server.launch;

import io.sparkgate.server.values.BatchRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The {@code spark-submit} options a request asks for, as an argument vector of (flag, value) pairs
 * in spark-submit's own order. Never joined into a shell line: values with spaces or quotes reach
 * spark-submit unchanged.
 */
public final class SparkSubmitArguments {

    private SparkSubmitArguments() {}

    /** Flag/value pairs: {@code [--class, X, --jars, a,b, ..., --conf, k=v]}. */
    public static List<String> options(BatchRequest request, Map<String, String> serverConf) {
        List<String> argv = new ArrayList<>();
        add(argv, "--class", request.className());
        add(argv, "--name", request.name());
        add(argv, "--proxy-user", request.proxyUser());
        add(argv, "--jars", String.join(",", request.jars()));
        add(argv, "--py-files", String.join(",", request.pyFiles()));
        add(argv, "--files", String.join(",", request.files()));
        add(argv, "--archives", String.join(",", request.archives()));
        add(argv, "--driver-memory", request.driverMemory());
        add(argv, "--driver-cores", request.driverCores());
        add(argv, "--executor-memory", request.executorMemory());
        add(argv, "--executor-cores", request.executorCores());
        add(argv, "--num-executors", request.numExecutors());
        add(argv, "--queue", request.queue());
        new TreeMap<>(serverConf).forEach((k, v) -> {
            if (!request.conf().containsKey(k)) {
                argv.add("--conf");
                argv.add(k + "=" + v);
            }
        });
        new TreeMap<>(request.conf()).forEach((k, v) -> {
            argv.add("--conf");
            argv.add(k + "=" + v);
        });
        return argv;
    }

    private static void add(List<String> argv, String flag, String value) {
        if (!value.isEmpty()) {
            argv.add(flag);
            argv.add(value);
        }
    }

    private static void add(List<String> argv, String flag, OptionalInt value) {
        value.ifPresent(v -> add(argv, flag, Integer.toString(v)));
    }
}
