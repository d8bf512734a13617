package io.sparkgate.server.values;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What a client asked to run: Livy's batch fields, validated. Absent strings are empty, absent
 * numbers empty {@link OptionalInt}s.
 */
public record BatchRequest(
        String file,
        String className,
        String proxyUser,
        String name,
        List<String> args,
        List<String> jars,
        List<String> pyFiles,
        List<String> files,
        List<String> archives,
        String driverMemory,
        OptionalInt driverCores,
        String executorMemory,
        OptionalInt executorCores,
        OptionalInt numExecutors,
        String queue,
        Map<String, String> conf) {

    public BatchRequest {
        requireNonNull(file, "file");
        requireNonNull(className, "className");
        requireNonNull(proxyUser, "proxyUser");
        requireNonNull(name, "name");
        args = List.copyOf(args);
        jars = List.copyOf(jars);
        pyFiles = List.copyOf(pyFiles);
        files = List.copyOf(files);
        archives = List.copyOf(archives);
        requireNonNull(driverMemory, "driverMemory");
        requireNonNull(driverCores, "driverCores");
        requireNonNull(executorMemory, "executorMemory");
        requireNonNull(executorCores, "executorCores");
        requireNonNull(numExecutors, "numExecutors");
        requireNonNull(queue, "queue");
        conf = Map.copyOf(conf);
    }

    /** A request for {@code file} alone; the other fields are set with the {@code with*} methods. */
    public static BatchRequest of(String file) {
        return new BatchRequest(file, "", "", "", List.of(), List.of(), List.of(), List.of(), List.of(),
                "", OptionalInt.empty(), "", OptionalInt.empty(), OptionalInt.empty(), "", Map.of());
    }

    public BatchRequest withClassName(String value) {
        return new BatchRequest(file, value, proxyUser, name, args, jars, pyFiles, files, archives,
                driverMemory, driverCores, executorMemory, executorCores, numExecutors, queue, conf);
    }

    public BatchRequest withProxyUser(String value) {
        return new BatchRequest(file, className, value, name, args, jars, pyFiles, files, archives,
                driverMemory, driverCores, executorMemory, executorCores, numExecutors, queue, conf);
    }

    public BatchRequest withArgs(List<String> value) {
        return new BatchRequest(file, className, proxyUser, name, value, jars, pyFiles, files, archives,
                driverMemory, driverCores, executorMemory, executorCores, numExecutors, queue, conf);
    }

    public BatchRequest withName(String value) {
        return new BatchRequest(file, className, proxyUser, value, args, jars, pyFiles, files, archives,
                driverMemory, driverCores, executorMemory, executorCores, numExecutors, queue, conf);
    }

    public BatchRequest withConf(Map<String, String> value) {
        return new BatchRequest(file, className, proxyUser, name, args, jars, pyFiles, files, archives,
                driverMemory, driverCores, executorMemory, executorCores, numExecutors, queue, value);
    }
}
