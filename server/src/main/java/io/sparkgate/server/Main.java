package io.sparkgate.server;

import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.server.config.Installation;

import io.sparkgate.client.cli.ClientCommands;
import io.sparkgate.server.api.SparkgateServer;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.SparkgateConfig;
import io.sparkgate.server.store.StoreInUseException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code sparkgate} command. */
@Command(name = "sparkgate", mixinStandardHelpOptions = true, versionProvider = BuildInfo.VersionProvider.class,
        description = "Runs Apache Spark batch jobs for other programs: Livy's REST API and gRPC on one port.%n"
                + "Client commands talk to a server (--server HOST:PORT, default $SPARKGATE_SERVER or localhost:8998).",
        subcommands = {Main.ServerCommand.class, Demo.class, HashPassword.class, CheckConfig.class})
public final class Main implements Callable<Integer> {

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("server")) {
            SparkgateServer.prepare(); // meanwhile: the command line is parsed, the config read, logging set up
        }
        System.exit(commandLine().execute(args));
    }

    /** The whole command: server commands here, client commands from the client library. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        ClientCommands.all().forEach(cl::addSubcommand);
        // As spark-submit: everything after the application file is the application's.
        cl.getSubcommands().get("submit").setStopAtPositional(true);
        return cl;
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 2;
    }

    /** Options shared by the commands that start a server. */
    static final class ServerOptions {
        @Option(names = "--config", description = "Config file (default: conf/sparkgate.conf if present).")
        Path config;

        @Option(names = "--port", description = "Port for gRPC, REST and /docs (default 8998).")
        Integer port;

        @Option(names = "--host", description = "Address to bind (default 127.0.0.1).")
        String host;

        @Option(names = "--data-dir", description = "Where batch logs are kept (default ./data).")
        Path dataDir;

        SparkgateConfig load() {
            return ConfigLoader.load(file(), config != null, System.getenv(), flags(), Installation.fromSystemProperties());
        }

        /** The config file: --config, else conf/sparkgate.conf (read when present). */
        Path file() {
            return config != null ? config : Path.of("conf", "sparkgate.conf");
        }

        /** The flags, as config keys. */
        Map<String, String> flags() {
            Map<String, String> flags = new LinkedHashMap<>();
            if (port != null) {
                flags.put(ConfigKeys.PORT.name(), port.toString());
            }
            if (host != null) {
                flags.put(ConfigKeys.HOST.name(), host);
            }
            if (dataDir != null) {
                flags.put(ConfigKeys.DATA_DIR.name(), dataDir.toString());
            }
            return flags;
        }
    }

    @Command(name = "server", mixinStandardHelpOptions = true,
            description = "Runs the server in the foreground until SIGTERM or Ctrl-C.")
    static final class ServerCommand implements Callable<Integer> {
        @CommandLine.Mixin
        ServerOptions options = new ServerOptions();

        @Override
        public Integer call() throws InterruptedException {
            SparkgateServer server;
            try {
                server = SparkgateServer.start(options.load());
            } catch (ConfigLoader.ConfigException | StoreInUseException e) {
                System.err.println("sparkgate: " + e.getMessage());
                return 2;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.drainAndClose();
                stopped.countDown();
            }, "sparkgate-shutdown"));
            stopped.await();
            return 0;
        }
    }
}
