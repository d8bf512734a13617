package io.sparkgate.server;

import io.sparkgate.server.config.ConfigKeys;

import static org.awaitility.Awaitility.await;

import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.SubmitSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A Sparkgate server in its own JVM, started the way an operator starts it ({@code Main server}), so
 * that a test can kill it with SIGKILL and start another one on the same data directory.
 */
public final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path output;
    private final LivyHttp http;

    private ServerProcess(Process process, int port, Path output) {
        this.process = process;
        this.port = port;
        this.http = new LivyHttp("http://127.0.0.1:" + port);
        this.output = output;
    }

    /** Starts a server on a free port with the test Spark home and waits until it answers. */
    static ServerProcess start(Path dataDir, Path workDir, String name) {
        return start(dataDir, workDir, name, testConf(), Map.of());
    }

    /** Starts a server that is expected to refuse to start; its exit code and output once it has exited. */
    static Exit startExpectingRefusal(Path dataDir, Path workDir, String name) throws InterruptedException {
        ServerProcess server = launch(dataDir, workDir, name, testConf(), Map.of());
        if (!server.process.waitFor(3, java.util.concurrent.TimeUnit.MINUTES)) {
            server.crash();
            throw new IllegalStateException("the server started instead of refusing:\n" + server.output());
        }
        return new Exit(server.process.exitValue(), server.output());
    }

    /** How a server process ended. */
    record Exit(int code, String output) {}

    /** The config file lines of a test server: the test Spark home, local mode, small drivers. */
    public static List<String> testConf() {
        return List.of(
                ConfigKeys.SPARK_HOME.name() + " = " + TestServer.SPARK_HOME,
                ConfigKeys.SPARK_MASTER.name() + " = local[1]",
                ConfigKeys.KILL_GRACE_PERIOD.name() + " = 5s",
                ConfigKeys.LOCAL_DIRS.name() + " = " + TestServer.EXAMPLES_JAR.getParent().getParent(),
                ConfigKeys.SPARK_CONF.name() + "spark.driver.memory = 512m",
                ConfigKeys.SPARK_CONF.name() + "spark.ui.enabled = false");
    }

    /**
     * Starts a server on a free port with exactly these config file lines and these environment
     * variables on top of the test JVM's, and waits until it answers.
     */
    public static ServerProcess start(Path dataDir, Path workDir, String name, List<String> confLines,
                               Map<String, String> env) {
        ServerProcess server = launch(dataDir, workDir, name, confLines, env);
        try {
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!server.process.isAlive()) {
                    throw new IllegalStateException("server exited with " + server.process.exitValue() + ":\n"
                            + server.output());
                }
                try {
                    return server.call("GET", "/batches?size=0", null).statusCode() == 200;
                } catch (UncheckedIOException e) {
                    return false;
                }
            });
        } catch (RuntimeException | Error e) {
            // A server that never answered is no test's to close: it must not outlive the test.
            server.process.destroyForcibly();
            throw e;
        }
        return server;
    }

    private static ServerProcess launch(Path dataDir, Path workDir, String name, List<String> confLines,
                                        Map<String, String> env) {
        try {
            Files.createDirectories(workDir);
            Path conf = workDir.resolve(name + ".conf");
            Files.writeString(conf, String.join("\n", confLines) + "\n");
            int port = freePort();
            Path output = workDir.resolve(name + ".out");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    "io.sparkgate.server.Main", "server", "--config", conf.toString(), "--port", Integer.toString(port),
                    "--data-dir", dataDir.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            builder.environment().putAll(env);
            return new ServerProcess(builder.start(), port, output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Kills each process and everything below it. Drivers outlive servers by design (a restarted server
     * re-attaches them), so a test that started some must not leave them behind.
     */
    public static void killTrees(Iterable<Long> pids) {
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(p -> {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            });
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The server's gRPC target, {@code host:port}, as a client is given it. */
    public String target() {
        return "127.0.0.1:" + port;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public HttpResponse<String> call(String method, String path, String jsonBody) {
        return http.call(method, path, jsonBody);
    }

    /** A GET that must answer 200; its JSON body. */
    public com.fasterxml.jackson.databind.JsonNode getJson(String path) {
        return http.getJson(path);
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or closed. */
    public void crash() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** Sends a signal to the server's JVM ({@code STOP}: it stands still, as in a long pause; {@code CONT}: it goes on). */
    public void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    public String output() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /** SIGTERM, the way an operator stops the server. */
    @Override
    public void close() throws InterruptedException {
        stop(Duration.ofSeconds(30));
    }

    /** SIGTERM, then SIGKILL if it has not exited within {@code wait}; whether it exited by itself. */
    boolean stop(Duration wait) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor();
            return false;
        }
        return true;
    }
}
