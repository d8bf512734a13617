package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.ServerProcess;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.ConfigLoader;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server is killed with SIGKILL while its batches run on YARN (a real MiniYARNCluster in this JVM;
 * the server in a JVM of its own), and a new one starts on the same data directory and database: it
 * finds each application again by the batch's tag and follows it to its end, without submitting anything
 * again. What a user sees: the same batch, still running, with the same application id, a log that goes
 * on where it stopped, an application in YARN that a delete still kills.
 */
class YarnReattachTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration YARN_APP_TIMEOUT = Duration.ofMinutes(4);
    /**
     * How long the driver runs, in seconds: long enough to outlive the kill and the new server's start
     * (a few seconds each here), short enough for CI.
     */
    private static final int TICKS = 30;

    @TempDir
    static Path tmp;

    private static MiniYarn yarn;
    private ServerProcess server;

    @BeforeAll
    static void startYarn() {
        yarn = MiniYarn.start(tmp.resolve("yarn"));
    }

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
        new ProcessBuilder("bash", "-c", "rm -rf /tmp/yr-debug; mkdir -p /tmp/yr-debug; cp -r " + tmp + "/*.out " + tmp + "/data/batches /tmp/yr-debug/").inheritIO().start().waitFor(); // DEBUG
    }

    @AfterAll
    static void stopYarn() {
        if (yarn != null) {
            yarn.close(); // kills whatever application is left
        }
    }

    @Test
    void aKilledServersRunningApplicationsAreFollowedAgainNotSubmittedAgain() throws Exception {
        Path dataDir = tmp.resolve("data");
        server = startServer(dataDir, "first");
        int finishing = create("SleepingApp", TICKS);
        int deletedLater = create("SleepingApp", 600);
        await("both running on YARN, the first driver lines in the log").atMost(YARN_APP_TIMEOUT)
                .pollInterval(Duration.ofMillis(500)).until(() ->
                        state(deletedLater).equals("running")
                                && fullLog(finishing).contains("[driver stdout] tick 2"));
        JsonNode before = server.getJson("/batches/" + finishing);
        assertThat(before.get("state").asText()).isEqualTo("running");
        String appId = before.get("appId").asText();
        String deletedAppId = server.getJson("/batches/" + deletedLater).get("appId").asText();
        List<String> logBefore = fullLog(finishing);
        String tag = YarnLauncher.storedTag(dataDir.resolve("batches").resolve(Integer.toString(finishing)))
                .orElseThrow();

        server.crash();
        server = startServer(dataDir, "second");

        // The same batch, still running on the same application.
        JsonNode after = server.getJson("/batches/" + finishing);
        assertThat(after.get("state").asText()).as("%s", after).isEqualTo("running");
        assertThat(after.get("appId").asText()).isEqualTo(appId);
        assertThat(state(deletedLater)).isEqualTo("running");

        // A delete after the restart still reaches the application through YARN.
        HttpResponse<String> deleted = server.call("DELETE", "/batches/" + deletedLater, null);
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        assertThat(server.call("GET", "/batches/" + deletedLater, null).statusCode()).isEqualTo(404);
        await("YARN says the deleted batch's application is KILLED").atMost(Duration.ofMinutes(1))
                .until(() -> yarnState(deletedAppId) == YarnApplicationState.KILLED);

        await("the re-attached batch ends").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> List.of("success", "dead", "killed").contains(state(finishing)));
        JsonNode done = server.getJson("/batches/" + finishing);
        assertThat(done.get("state").asText()).as("%s", done).isEqualTo("success");
        assertThat(done.get("appId").asText()).isEqualTo(appId);
        assertThat(yarnState(appId)).isEqualTo(YarnApplicationState.FINISHED);

        // Its log goes on where it stopped: the lines shown before keep their numbers, every tick once.
        List<String> log = fullLog(finishing);
        assertThat(log.subList(0, logBefore.size())).isEqualTo(logBefore);
        assertThat(log.stream().filter(l -> l.startsWith("[driver stdout] tick ")).toList())
                .containsExactlyElementsOf(IntStream.range(0, TICKS).mapToObj(i -> "[driver stdout] tick " + i).toList());
        assertThat(log.stream().filter(l -> l.startsWith("[sparkgate] the driver's output"))).hasSize(1);
        assertThat(log.stream().filter(l -> l.contains("Submitting application"))).hasSize(1);
        assertThat(log).last().asString().contains(appId, "FINISHED", "SUCCEEDED");

        // YARN ran one application per batch: the one found again, none submitted after the restart.
        assertThat(applicationsTagged(tag)).extracting(r -> r.getApplicationId().toString()).containsExactly(appId);
        assertThat(yarn.client().getApplications()).extracting(r -> r.getApplicationId().toString())
                .containsExactlyInAnyOrder(appId, deletedAppId);
    }

    private static ServerProcess startServer(Path dataDir, String name) {
        String javaHome = System.getProperty("java.home");
        String spark = ConfigLoader.SPARK_CONF_PREFIX;
        List<String> conf = new ArrayList<>(ServerProcess.testConf());
        // On YARN instead of local mode: in a properties file the later line wins.
        conf.addAll(List.of(
                ConfigLoader.SPARK_MASTER + " = yarn",
                ConfigLoader.YARN_CONF_DIR + " = " + yarn.confDir(),
                ConfigLoader.YARN_POLL_INTERVAL + " = 500ms",
                spark + "spark.yarn.stagingDir = " + tmp.resolve("staging").toUri(),
                spark + "spark.yarn.maxAppAttempts = 1",
                spark + "spark.executor.instances = 1",
                spark + "spark.executor.cores = 1",
                spark + "spark.executor.memory = 512m",
                spark + "spark.yarn.appMasterEnv.JAVA_HOME = " + javaHome,
                spark + "spark.executorEnv.JAVA_HOME = " + javaHome,
                spark + "spark.yarn.appMasterEnv.SPARK_LOCAL_IP = 127.0.0.1",
                spark + "spark.executorEnv.SPARK_LOCAL_IP = 127.0.0.1"));
        return ServerProcess.start(dataDir, tmp, name, conf, Map.of());
    }

    private int create(String app, int seconds) throws Exception {
        HttpResponse<String> created = server.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.%s", "args": ["%d"]}
                """.formatted(TestServer.EXAMPLES_JAR, app, seconds));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("id").asInt();
    }

    private String state(int id) {
        return server.getJson("/batches/" + id + "/state").get("state").asText();
    }

    private List<String> fullLog(int id) {
        List<String> lines = new ArrayList<>();
        server.getJson("/batches/" + id + "/log?from=0&size=-1").get("log").forEach(l -> lines.add(l.asText()));
        return lines;
    }

    /** What YARN itself says about an application. */
    private static YarnApplicationState yarnState(String appId) throws Exception {
        return yarn.client().getApplicationReport(ApplicationId.fromString(appId)).getYarnApplicationState();
    }

    /** Every application YARN has with this tag, in any state. */
    private static List<ApplicationReport> applicationsTagged(String tag) throws Exception {
        return yarn.client().getApplications(null, EnumSet.allOf(YarnApplicationState.class), Set.of(tag));
    }
}
