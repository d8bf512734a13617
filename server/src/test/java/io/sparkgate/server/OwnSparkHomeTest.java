package io.sparkgate.server;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkgate.server.config.ConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A Livy user brings their own Spark: {@code SPARK_HOME} points at a distribution whose
 * {@code bin/spark-submit} knows nothing of Sparkgate (launcher.Main, then exec the command it prints,
 * as Spark's own scripts do). Their batches end exactly as on the embedded home: by spark-submit's exit
 * code, re-attached by pid after the server is SIGKILLed, killed as a process tree. Spark 3.5 (Scala
 * 2.12, the {@code spark-dist-3.5} module) and 4.0 (the embedded home's jars in a distribution's layout).
 */
class OwnSparkHomeTest {

    static final Path SPARK_35_HOME = Path.of(System.getProperty("sparkgate.test.spark35-home",
            "../spark-dist-3.5/target/spark-home")).toAbsolutePath().normalize();
    private static final Duration APP_TIMEOUT = Duration.ofMinutes(5);
    private static final List<String> FINAL = List.of("success", "dead", "killed");
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();

    @TempDir
    Path tmp;

    private ServerProcess server;
    private final List<Long> wrappers = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        if (server != null) {
            server.close();
        }
        ServerProcess.killTrees(wrappers);
    }

    static Stream<Arguments> sparkHomes() {
        return Stream.of(Arguments.of("Spark 3.5", (HomeMaker) tmp -> SPARK_35_HOME),
                         Arguments.of("Spark 4.0", (HomeMaker) OwnSparkHomeTest::spark4Distribution));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sparkHomes")
    void batchesOnAUsersOwnSparkEndByExitCodeSurviveACrashAndAreKilledAsATree(String label, HomeMaker home)
            throws Exception {
        Path sparkHome = home.make(tmp);
        assertThat(Files.readString(sparkHome.resolve("bin/spark-submit"))).doesNotContainIgnoringCase("sparkgate_");
        Path dataDir = tmp.resolve("data");
        server = start(dataDir, sparkHome, "first");

        int failing = create("io.sparkgate.examples.FailingApp");
        // Never starts a SparkContext: the kind of app a launcher handle reports as LOST, though it exits 0.
        int lines = create("io.sparkgate.examples.NumberedLines", "60", "250");
        int sleeper = create("io.sparkgate.examples.SleepingApp", "600");

        awaitFinal(failing, "dead");
        assertThat(lastReason(failing)).isEqualTo("spark-submit exited with code 1");
        awaitUntil(() -> fullLog(sleeper).contains("tick 1") && fullLog(lines).contains("line 3"));
        long sleeperPid = wrapperPid(dataDir, sleeper);
        long linesPid = wrapperPid(dataDir, lines);
        List<Long> tree = ProcessHandle.of(sleeperPid).orElseThrow().descendants().map(ProcessHandle::pid).toList();
        assertThat(tree).as("the driver runs under the wrapper").isNotEmpty();

        server.crash();
        server = start(dataDir, sparkHome, "second");

        // Re-attached (or, had it ended while no server watched, ended by its exit code all the same).
        assertThat(ProcessHandle.of(linesPid).map(ProcessHandle::isAlive).orElse(false) || state(lines).equals("success"))
                .as("running, or ended while no server watched").isTrue();
        awaitFinal(lines, "success");
        assertThat(lastReason(lines)).isEqualTo("spark-submit exited with code 0");
        assertThat(fullLog(lines).stream().filter(l -> l.startsWith("line ")).toList())
                .isEqualTo(IntStream.range(0, 60).mapToObj(i -> "line " + i).toList());

        // The re-attached driver is killed as a process tree, and a follower sees it end `killed`.
        assertThat(state(sleeper)).isEqualTo("running");
        assertThat(fullLog(sleeper)).contains("tick 0", "tick 1");
        String eventsUrl = server.baseUrl() + "/batches/" + sleeper + "/events";
        AtomicBoolean watching = new AtomicBoolean();
        CompletableFuture<SseClient.Stream> events = CompletableFuture.supplyAsync(() -> {
            try {
                return SseClient.read(eventsUrl, Map.of(), e -> watching.set(true));
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        await().atMost(Duration.ofSeconds(30)).untilTrue(watching);
        HttpResponse<String> deleted = server.call("DELETE", "/batches/" + sleeper, null);
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        assertThat(events.get(1, TimeUnit.MINUTES).events())
                .as("what a follower of the killed batch saw")
                .anyMatch(e -> e.data().contains("\"state\":\"killed\""));
        await().atMost(Duration.ofSeconds(30)).until(() -> Stream.concat(Stream.of(sleeperPid), tree.stream())
                .allMatch(pid -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)));
        assertThat(server.call("GET", "/batches/" + sleeper, null).statusCode()).isEqualTo(404);
    }

    /** The embedded Spark 4.0 jars in an Apache Spark distribution's layout, with its kind of scripts. */
    private static Path spark4Distribution(Path tmp) {
        try {
            Path home = Files.createDirectories(tmp.resolve("spark-4.0"));
            Path bin = Files.createDirectories(home.resolve("bin"));
            for (String script : List.of("spark-submit", "spark-class")) {
                Path copy = Files.copy(SPARK_35_HOME.resolve("bin").resolve(script), bin.resolve(script));
                Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Files.createSymbolicLink(home.resolve("jars"), TestServer.SPARK_HOME.resolve("jars"));
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** As a Livy operator starts it: SPARK_HOME in the environment, livy.conf's keys in the file. */
    private ServerProcess start(Path dataDir, Path sparkHome, String name) {
        return ServerProcess.start(dataDir, tmp, name, List.of(
                "livy.spark.master = local[1]",
                "livy.file.local-dir-whitelist = " + TestServer.EXAMPLES_JAR.getParent().getParent(),
                ConfigKeys.KILL_GRACE_PERIOD.name() + " = 5s",
                ConfigKeys.SPARK_CONF.name() + "spark.driver.memory = 512m",
                ConfigKeys.SPARK_CONF.name() + "spark.ui.enabled = false"),
                Map.of("SPARK_HOME", sparkHome.toString()));
    }

    private int create(String className, String... args) {
        String body = """
                {"file": "%s", "className": "%s", "args": [%s]}
                """.formatted(EXAMPLES, className,
                String.join(", ", Stream.of(args).map(a -> '"' + a + '"').toList()));
        HttpResponse<String> created = server.call("POST", "/batches", body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(created.body()).get("id").asInt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String state(int id) {
        return server.getJson("/batches/" + id + "/state").get("state").asText();
    }

    private void awaitFinal(int id, String expected) {
        try {
            awaitUntil(() -> FINAL.contains(state(id)));
        } catch (AssertionError e) {
            throw new AssertionError("batch " + id + " log:\n" + String.join("\n", fullLog(id)) + "\n" + e.getMessage(), e);
        }
        assertThat(state(id)).as("batch %d: %s", id, server.getJson("/batches/" + id)).isEqualTo(expected);
    }

    /** Waits for a batch to get somewhere; on a timeout, the server's own output says why. */
    private void awaitUntil(java.util.concurrent.Callable<Boolean> condition) {
        try {
            await().atMost(APP_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "\nserver output:\n" + server.output(), e);
        }
    }

    private String lastReason(int id) {
        JsonNode history = server.getJson("/batches/" + id).get("stateHistory");
        return history.get(history.size() - 1).get("reason").asText();
    }

    private List<String> fullLog(int id) {
        List<String> out = new ArrayList<>();
        server.getJson("/batches/" + id + "/log?from=0&size=-1").get("log").forEach(l -> out.add(l.asText()));
        return out;
    }

    private long wrapperPid(Path dataDir, int id) throws IOException {
        long pid = Long.parseLong(Files.readString(dataDir.resolve("batches").resolve(Integer.toString(id)).resolve("pid")).trim());
        wrappers.add(pid);
        return pid;
    }

    @FunctionalInterface
    interface HomeMaker {
        Path make(Path tmp);
    }
}
