package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.ServerProcess;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.ConfigKeys;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
 * again. What a user sees: the same batches with the same application ids, a log that goes on where it
 * stopped, an application a delete still kills.
 */
class YarnReattachTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration YARN_APP_TIMEOUT = Duration.ofMinutes(8);

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
    }

    @AfterAll
    static void stopYarn() {
        if (yarn != null) {
            yarn.close(); // kills whatever application is left
        }
    }

    @Test
    void aKilledServersApplicationsAreFollowedAgainNotSubmittedAgain() throws Exception {
        Path dataDir = tmp.resolve("data");
        Path stopRunning = tmp.resolve("stop-running");
        server = startServer(dataDir, "first");
        int running = create(stopRunning);
        int deletedLater = create(tmp.resolve("never"));
        List<Integer> all = List.of(running, deletedLater);
        await("both running on YARN, their first driver lines in the log").atMost(YARN_APP_TIMEOUT)
                .pollInterval(Duration.ofMillis(500)).until(() -> all.stream()
                        .allMatch(id -> fullLog(id).contains("[driver stdout] tick 2")));
        Map<Integer, String> appIds = new TreeMap<>();
        Map<Integer, List<String>> logsBefore = new TreeMap<>();
        Map<Integer, String> tags = new TreeMap<>();
        for (int id : all) {
            JsonNode batch = server.getJson("/batches/" + id);
            assertThat(batch.get("state").asText()).as("%s", batch).isEqualTo("running");
            appIds.put(id, batch.get("appId").asText());
            logsBefore.put(id, fullLog(id));
            tags.put(id, YarnLauncher.storedTag(dataDir.resolve("batches").resolve(Integer.toString(id))).orElseThrow());
        }

        server.crash();
        server = startServer(dataDir, "second");

        // The same batches, on the same applications, still running.
        for (int id : all) {
            assertThat(server.getJson("/batches/" + id).get("appId").asText()).isEqualTo(appIds.get(id));
        }
        assertThat(state(running)).isEqualTo("running");
        assertThat(state(deletedLater)).isEqualTo("running");

        // A delete after the restart still reaches the application through YARN.
        HttpResponse<String> deleted = server.call("DELETE", "/batches/" + deletedLater, null);
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        assertThat(server.call("GET", "/batches/" + deletedLater, null).statusCode()).isEqualTo(404);
        await("YARN says the deleted batch's application is KILLED").atMost(Duration.ofMinutes(1))
                .until(() -> yarnState(appIds.get(deletedLater)) == YarnApplicationState.KILLED);

        // The other one's driver output goes on, and it ends as YARN says.
        await("the re-attached driver's output goes on").atMost(YARN_APP_TIMEOUT).until(() ->
                ticks(fullLog(running)).size() > ticks(logsBefore.get(running)).size() + 2);
        Files.createFile(stopRunning);
        assertEndsWithItsWholeLog(running, appIds.get(running), logsBefore.get(running));

        // YARN ran one application per batch: the ones found again, none submitted after the restart.
        for (int id : all) {
            assertThat(applicationsTagged(tags.get(id))).extracting(r -> r.getApplicationId().toString())
                    .as("applications tagged %s", tags.get(id)).containsExactly(appIds.get(id));
        }
        assertThat(yarn.client().getApplications()).extracting(r -> r.getApplicationId().toString())
                .containsExactlyInAnyOrderElementsOf(appIds.values());
    }

    /** The batch ends {@code success}; its log went on where it stopped: lines kept, every tick once. */
    private void assertEndsWithItsWholeLog(int id, String appId, List<String> logBefore) throws Exception {
        await("batch " + id + " ends").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> List.of("success", "dead", "killed").contains(state(id)));
        JsonNode done = server.getJson("/batches/" + id);
        List<String> log = fullLog(id);
        assertThat(done.get("state").asText()).as("%s\n%s", done, String.join("\n", log)).isEqualTo("success");
        assertThat(done.get("appId").asText()).isEqualTo(appId);
        assertThat(yarnState(appId)).isEqualTo(YarnApplicationState.FINISHED);
        assertThat(log.subList(0, logBefore.size())).isEqualTo(logBefore);
        List<String> ticks = ticks(log);
        assertThat(ticks).hasSizeGreaterThan(ticks(logBefore).size())
                .containsExactlyElementsOf(IntStream.range(0, ticks.size()).mapToObj(i -> "[driver stdout] tick " + i).toList());
        assertThat(log).filteredOn(l -> l.startsWith("[sparkgate] the driver's output")).hasSize(1);
        assertThat(log).filteredOn(l -> l.contains("Submitting application")).hasSize(1);
        assertThat(log).noneMatch(l -> l.contains("could not be read"));
        assertThat(log).last().asString().contains(appId, "FINISHED", "SUCCEEDED");
    }

    private static List<String> ticks(List<String> log) {
        return log.stream().filter(l -> l.startsWith("[driver stdout] tick ")).toList();
    }

    private static ServerProcess startServer(Path dataDir, String name) {
        String javaHome = System.getProperty("java.home");
        String spark = ConfigKeys.SPARK_CONF.name();
        List<String> conf = new ArrayList<>(ServerProcess.testConf());
        // On YARN instead of local mode: in a properties file the later line wins.
        conf.addAll(List.of(
                ConfigKeys.SPARK_MASTER.name() + " = yarn",
                ConfigKeys.YARN_CONF_DIR.name() + " = " + yarn.confDir(),
                ConfigKeys.YARN_POLL_INTERVAL.name() + " = 500ms",
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

    /** A batch whose driver prints {@code tick i} once a second, for ten minutes or until {@code stopFile} exists. */
    private int create(Path stopFile) throws Exception {
        HttpResponse<String> created = server.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.SleepingApp", "args": ["600", "%s"]}
                """.formatted(TestServer.EXAMPLES_JAR, stopFile));
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
