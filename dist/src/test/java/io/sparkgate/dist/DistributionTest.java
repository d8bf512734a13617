package io.sparkgate.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator's first hour with the tarball, away from any checkout: unpack, start, run a real Spark
 * application, scrape it, probe it, use the CLI, stop it.
 */
class DistributionTest {

    private static final Path TARBALL = Path.of(System.getProperty("sparkgate.test.tarball"));
    private static final String VERSION = System.getProperty("sparkgate.test.version");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path dir;

    @Test
    void unpackedTarballStartsRunsABatchIsScrapedAndStops() throws Exception {
        run(dir, "tar", "xzf", TARBALL.toString());
        Path home = dir.resolve("sparkgate-" + VERSION);
        for (String entry : List.of("bin/sparkgate", "conf/sparkgate.conf.template", "conf/logback.xml.template",
                "conf/sparkgate-env.sh.template", "spark/bin/spark-submit", "examples/target/sparkgate-examples.jar",
                "systemd/sparkgate.service", "LICENSE", "NOTICE")) {
            assertThat(home.resolve(entry)).as(entry).exists();
        }
        assertThat(home.resolve("bin/sparkgate")).isExecutable();
        assertThat(home.resolve("spark/bin/spark-submit")).isExecutable();
        Files.writeString(home.resolve("conf/sparkgate.conf"), """
                sparkgate.server.port = 0
                sparkgate.spark.master = local[1]
                sparkgate.spark-conf.spark.driver.memory = 512m
                sparkgate.spark-conf.spark.ui.enabled = false
                sparkgate.drain.grace = 1s
                """);
        Path pidFile = home.resolve("logs/sparkgate.pid");

        // The tarball carries each jar once: lib/ holds none of spark/jars, and names the ones it uses from there.
        List<String> shared = Files.readAllLines(home.resolve("lib/spark-jars.txt")).stream()
                .filter(l -> !l.isBlank()).toList();
        assertThat(shared).as("jars the server takes from spark/jars").isNotEmpty()
                .allSatisfy(jar -> assertThat(home.resolve("spark/jars").resolve(jar)).exists());
        try (var lib = Files.list(home.resolve("lib"))) {
            assertThat(lib.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar")))
                    .isNotEmpty()
                    .noneMatch(n -> Files.exists(home.resolve("spark/jars").resolve(n)));
        }

        Result started = sparkgate(home, "start");
        try {
            assertThat(started.exitCode()).as(started.output()).isZero();
            assertThat(pidFile).exists();
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            int port = await().atMost(Duration.ofMinutes(2)).until(() -> port(home), p -> p > 0);
            String base = "http://127.0.0.1:" + port;
            await().atMost(Duration.ofMinutes(1)).until(() -> get(base + "/readyz").statusCode() == 200);
            assertThat(sparkgate(home, "status").output()).contains("running (pid " + pid + ")");

            String jar = home.resolve("examples/target/sparkgate-examples.jar").toString();
            HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/batches"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("""
                            {"file": "%s", "className": "io.sparkgate.examples.SparkPi", "args": ["2"]}
                            """.formatted(jar))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            Matcher id = Pattern.compile("\"id\":(\\d+)").matcher(created.body());
            assertThat(id.find()).isTrue();
            String state = base + "/batches/" + id.group(1) + "/state";
            await().atMost(Duration.ofMinutes(3)).until(() -> finalState(get(state).body()));
            assertThat(get(state).body()).as("batch log: %s", log(base, id.group(1))).contains("\"success\"");

            String metrics = get(base + "/metrics").body();
            assertThat(metrics).contains("sparkgate_batches_finished_total{state=\"success\"} 1.0");
            assertThat(metrics).contains("sparkgate_build_info{");
            // bin/jvm-defaults.sh applies: G1 is the collector.
            assertThat(metrics).contains("id=\"G1 Old Gen\"");
            assertThat(get(base + "/healthz").statusCode()).isEqualTo(200);
            assertThat(get(base + "/readyz").statusCode()).isEqualTo(200);

            // The CLI from the distribution alone.
            Result version = sparkgate(home, "--version");
            assertThat(version.output()).startsWith("sparkgate " + VERSION + " (commit ");
            Result list = sparkgate(home, "list", "--server", "127.0.0.1:" + port);
            assertThat(list.exitCode()).as(list.output()).isZero();
            assertThat(list.output()).contains("success");

            Result stopped = sparkgate(home, "stop");
            assertThat(stopped.exitCode()).as(stopped.output()).isZero();
            assertThat(pidFile).doesNotExist();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(sparkgate(home, "status").exitCode()).isEqualTo(3);
            assertThat(Files.readString(home.resolve("logs/sparkgate.out"))).contains("draining: not ready");
        } finally {
            // Never leave a server behind, whatever failed above (a no-op after the stop).
            sparkgate(home, "stop");
        }
    }

    private static boolean finalState(String stateJson) {
        return stateJson.contains("\"success\"") || stateJson.contains("\"dead\"")
                || stateJson.contains("\"killed\"");
    }

    private static String log(String base, String id) throws Exception {
        return get(base + "/batches/" + id + "/log?size=200").body();
    }

    private static int port(Path home) throws IOException {
        Path out = home.resolve("logs/sparkgate.out");
        if (!Files.exists(out)) {
            return 0;
        }
        Matcher m = LISTENING.matcher(Files.readString(out));
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private record Result(int exitCode, String output) {}

    private static Result sparkgate(Path home, String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = home.resolve("bin/sparkgate").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        return run(home, command);
    }

    /** Runs a command in {@code cwd} with a clean environment: no SPARK_HOME, HADOOP_CONF_DIR, SPARKGATE_*. */
    private static Result run(Path cwd, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SPARKGATE_") || k.equals("SPARK_HOME") || k.equals("HADOOP_CONF_DIR")
                || k.equals("YARN_CONF_DIR"));
        Process p = pb.start();
        // Read everything: a started server's output goes to its log file, not to this pipe.
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
        return new Result(p.exitValue(), output);
    }
}
