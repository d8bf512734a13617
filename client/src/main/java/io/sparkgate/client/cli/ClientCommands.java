package io.sparkgate.client.cli;

import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.ListBatchesResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The client subcommands of {@code sparkgate}: submit, list, status, logs, kill. */
public final class ClientCommands {

    private ClientCommands() {}

    /** New instances of every client subcommand, for a picocli parent command. */
    public static List<Object> all() {
        return List.of(new Submit(), new ListBatches(), new Status(), new Logs(), new Kill());
    }

    @Command(name = "submit", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Submits a Spark application as a batch (flags as spark-submit's).",
            exitCodeListHeading = "Exit codes:%n",
            exitCodeList = {"0:submitted (with --follow: the batch ended in success)", "1:the batch ended dead",
                            "2:bad command line", "3:the batch ended killed", "4:server unreachable",
                            "5:server refused the request"})
    static final class Submit extends ClientCommand {
        @Parameters(index = "0", paramLabel = "FILE", description = "The application's jar or Python file.")
        String file;

        @Parameters(index = "1..*", paramLabel = "ARGS", description = "Arguments of the application.")
        List<String> args = new ArrayList<>();

        @Option(names = "--class", description = "Main class.")
        String className;

        @Option(names = "--name", description = "Application name.")
        String name;

        @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Spark property (repeatable).")
        Map<String, String> conf = new LinkedHashMap<>();

        @Option(names = "--jars", split = ",", description = "Jars for the classpath (comma-separated).")
        List<String> jars = new ArrayList<>();

        @Option(names = "--py-files", split = ",", description = "Python files (comma-separated).")
        List<String> pyFiles = new ArrayList<>();

        @Option(names = "--files", split = ",", description = "Files for the executors' working directory.")
        List<String> files = new ArrayList<>();

        @Option(names = "--queue", description = "YARN queue.")
        String queue;

        @Option(names = "--driver-memory", description = "Driver memory, e.g. 2g.")
        String driverMemory;

        @Option(names = "--executor-memory", description = "Executor memory, e.g. 4g.")
        String executorMemory;

        @Option(names = "--num-executors", description = "Number of executors.")
        Integer numExecutors;

        @Option(names = "--proxy-user", description = "User to run the application as.")
        String proxyUser;

        @Option(names = {"-f", "--follow"}, description = "Stream the log until the batch ends; exit by its state.")
        boolean follow;

        @Option(names = "--request-id", description = "Idempotency key: submitting again with it returns the same batch.")
        String requestId;

        @Override
        int run(BatchApi api) throws Exception {
            CreateBatchRequest.Builder req = CreateBatchRequest.newBuilder().setFile(file).addAllArgs(args)
                    .addAllJars(jars).addAllPyFiles(pyFiles).addAllFiles(files).putAllConf(conf);
            if (className != null) {
                req.setClassName(className);
            }
            if (name != null) {
                req.setName(name);
            }
            if (queue != null) {
                req.setQueue(queue);
            }
            if (driverMemory != null) {
                req.setDriverMemory(driverMemory);
            }
            if (executorMemory != null) {
                req.setExecutorMemory(executorMemory);
            }
            if (numExecutors != null) {
                req.setNumExecutors(numExecutors);
            }
            if (proxyUser != null) {
                req.setProxyUser(proxyUser);
            }
            if (requestId != null) {
                req.setRequestId(requestId);
            }
            Batch batch = api.submit(req.build());
            if (json) {
                out().println(toJson(batch));
            } else {
                err().println("batch " + batch.getId() + " submitted (" + state(batch.getState()) + ")");
            }
            out().flush();
            return follow ? follow(api, batch.getId(), 0) : ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists batches.")
    static final class ListBatches extends ClientCommand {
        @Option(names = "--from", description = "Index of the first batch (default 0).")
        int from;

        @Option(names = "--size", description = "Most batches to list (default 100).")
        int size = 100;

        @Override
        int run(BatchApi api) {
            ListBatchesResponse page = api.list(from, size);
            if (json) {
                out().println(toJson(page));
                return ExitCodes.OK;
            }
            String format = "%-6s %-24s %-12s %-32s %s%n";
            out().printf(format, "ID", "NAME", "STATE", "APP ID", "AGE");
            for (Batch b : page.getSessionsList()) {
                out().printf(format, b.getId(), b.hasName() ? b.getName() : "-", state(b.getState()),
                        b.hasAppId() ? b.getAppId() : "-", age(b));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Shows one batch.")
    static final class Status extends ClientCommand {
        @Parameters(paramLabel = "ID")
        int id;

        @Override
        int run(BatchApi api) {
            Batch b = api.get(id);
            if (json) {
                out().println(toJson(b));
            } else {
                out().printf("batch %d: %s%n", b.getId(), state(b.getState()));
                out().printf("  name:   %s%n  app id: %s%n", b.hasName() ? b.getName() : "-", b.hasAppId() ? b.getAppId() : "-");
                if (b.getAppInfo().hasSparkUiUrl()) {
                    out().printf("  ui:     %s%n", b.getAppInfo().getSparkUiUrl());
                }
                b.getStateHistoryList().forEach(c -> out().printf("  %s  %-11s %s%n",
                        java.time.Instant.ofEpochSecond(c.getTime().getSeconds()), state(c.getState()), c.getReason()));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, description = "Prints a batch's log.")
    static final class Logs extends ClientCommand {
        @Parameters(paramLabel = "ID")
        int id;

        @Option(names = "--from", description = "First line (default 0).")
        int from;

        @Option(names = {"-f", "--follow"}, description = "Keep printing lines until the batch ends; exit by its state.")
        boolean follow;

        @Override
        int run(BatchApi api) throws Exception {
            if (follow) {
                return follow(api, id, from);
            }
            GetBatchLogResponse page = api.log(id, from, -1);
            if (json) {
                out().println(toJson(page));
            } else {
                page.getLogList().forEach(out()::println);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "kill", mixinStandardHelpOptions = true, description = "Kills a batch if it runs and removes it.")
    static final class Kill extends ClientCommand {
        @Parameters(paramLabel = "ID")
        int id;

        @Override
        int run(BatchApi api) {
            api.kill(id);
            if (json) {
                out().println(object().put("id", id).put("msg", "deleted"));
            } else {
                err().println("batch " + id + " killed and removed");
            }
            return ExitCodes.OK;
        }
    }
}
