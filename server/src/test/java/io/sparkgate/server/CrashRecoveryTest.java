package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.batch.BatchRecovery;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import io.sparkgate.server.values.LaunchInfo;
import io.sparkgate.server.store.JdbcBatchStore;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server is killed with SIGKILL while batches run, and a new one starts on the same data
 * directory: nothing it acknowledged is lost, running drivers are re-attached, none is left stuck.
 */
class CrashRecoveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration APP_TIMEOUT = Duration.ofMinutes(2);
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();
    private static final List<String> FINAL = List.of("success", "dead", "killed");

    @TempDir
    Path tmp;

    private ServerProcess server;
    private final List<Long> drivers = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        if (server != null) {
            server.close();
        }
        // Drivers outlive servers by design: do not leave this test's behind.
        ServerProcess.killTrees(drivers);
    }

    @Test
    void aKilledServerLosesNoAcknowledgedBatchAndReattachesRunningDrivers() throws Exception {
        Path dataDir = tmp.resolve("data");
        server = ServerProcess.start(dataDir, tmp, "first");

        int finished = create(numberedLines("50", "0"));
        int failed = create(numberedLines("not-a-number", "0"));
        int running = create(numberedLines("80", "250"));
        int deletedLater = create(numberedLines("400", "250"));
        awaitState(finished, "success");
        awaitState(failed, "dead");
        await().atMost(APP_TIMEOUT).until(() -> fullLog(running).contains("line 3") && fullLog(deletedLater).contains("line 3"));
        JsonNode finishedBefore = server.getJson("/batches/" + finished);
        JsonNode failedBefore = server.getJson("/batches/" + failed);
        List<String> finishedLog = fullLog(finished);
        List<String> failedLog = fullLog(failed);
        long runningPid = wrapperPid(dataDir, running);
        long deletedPid = wrapperPid(dataDir, deletedLater);

        server.crash();
        server = null;

        assertThat(ProcessHandle.of(runningPid)).as("a driver survives its server").hasValueSatisfying(
                p -> assertThat(p.isAlive()).isTrue());
        // Two batches the dead server had recorded: one never launched (a crash between the commit and
        // the launch), one whose driver is gone without an exit code.
        int neverLaunched;
        int lost;
        try (JdbcBatchStore store = JdbcBatchStore.open(JdbcBatchStore.embeddedUrl(dataDir), "sparkgate", "")) {
            neverLaunched = store.insert(batch(numberedLinesRequest("3"), BatchState.STARTING), "");
            lost = store.insert(batch(numberedLinesRequest("3"), BatchState.STARTING, BatchState.RUNNING), "");
            store.saveLaunch(lost, goneProcess());
            Files.createDirectories(dataDir.resolve("batches").resolve(Integer.toString(lost)));
            Files.writeString(dataDir.resolve("batches").resolve(Integer.toString(lost)).resolve("output"),
                    "line from a driver that is gone\n");
        }

        server = ServerProcess.start(dataDir, tmp, "second");

        JsonNode list = server.getJson("/batches");
        assertThat(list.get("total").asInt()).isEqualTo(6);
        List<String> states = new ArrayList<>();
        list.get("sessions").forEach(s -> states.add(s.get("state").asText()));
        assertThat(states).doesNotContain("recovering");
        assertThat(server.getJson("/batches/" + finished)).isEqualTo(finishedBefore);
        assertThat(server.getJson("/batches/" + failed)).isEqualTo(failedBefore);
        assertThat(fullLog(finished)).isEqualTo(finishedLog).contains("line 0", "line 49");
        assertThat(fullLog(failed)).isEqualTo(failedLog);
        // Still running, or ended while no server watched (then its exit code tells how).
        assertThat(state(running)).isIn("running", "success");
        JsonNode lostBatch = server.getJson("/batches/" + lost);
        assertThat(lostBatch.get("state").asText()).isEqualTo("dead");
        assertThat(lastReason(lostBatch)).isEqualTo(BatchRecovery.LOST);

        // The re-attached driver is killed through its pid.
        HttpResponse<String> deleted = server.call("DELETE", "/batches/" + deletedLater, null);
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(deletedPid).map(p -> !p.isAlive()).orElse(true));

        // The re-attached one ends by its exit code, with its whole log; the one never launched runs now.
        awaitState(running, "success");
        List<String> log = fullLog(running);
        List<String> expected = IntStream.range(0, 80).mapToObj(i -> "line " + i).toList();
        assertThat(log.stream().filter(l -> l.startsWith("line ")).toList()).isEqualTo(expected);
        assertThat(lastReason(server.getJson("/batches/" + running))).isEqualTo("spark-submit exited with code 0");
        awaitState(neverLaunched, "success");
        assertThat(fullLog(neverLaunched)).contains("line 0", "line 2");

        JsonNode after = server.getJson("/batches");
        assertThat(after.get("total").asInt()).isEqualTo(5);
        after.get("sessions").forEach(s -> assertThat(FINAL).as("batch %s", s).contains(s.get("state").asText()));
    }

    private static String numberedLines(String lines, String delayMillis) {
        return """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["%s", "%s"]}
                """.formatted(EXAMPLES, lines, delayMillis);
    }

    private static BatchRequest numberedLinesRequest(String lines) {
        return BatchRequest.of(EXAMPLES).withClassName("io.sparkgate.examples.NumberedLines").withArgs(List.of(lines));
    }

    private static Batch batch(BatchRequest request, BatchState... states) {
        List<StateChange> history = new ArrayList<>();
        for (BatchState s : states) {
            history.add(new StateChange(s, Instant.now(), "recorded by the server that crashed"));
        }
        return new Batch(-1, request, "", "", "", "", history, Instant.now());
    }

    /** The identity of a process that has ended. */
    private static LaunchInfo goneProcess() throws Exception {
        Process p = new ProcessBuilder("sleep", "0.3").start();
        Instant start = p.toHandle().info().startInstant().orElseThrow();
        p.waitFor();
        return new LaunchInfo(p.pid(), start);
    }

    private long wrapperPid(Path dataDir, int id) throws Exception {
        long pid = Long.parseLong(Files.readString(dataDir.resolve("batches").resolve(Integer.toString(id)).resolve("pid")).trim());
        drivers.add(pid);
        return pid;
    }

    private int create(String body) throws Exception {
        HttpResponse<String> created = server.call("POST", "/batches", body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("id").asInt();
    }


    private String state(int id) throws Exception {
        return server.getJson("/batches/" + id + "/state").get("state").asText();
    }

    private void awaitState(int id, String expected) {
        await().atMost(APP_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> FINAL.contains(state(id)));
        try {
            assertThat(state(id)).as("batch %d: %s", id, server.getJson("/batches/" + id)).isEqualTo(expected);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String lastReason(JsonNode batch) {
        JsonNode history = batch.get("stateHistory");
        return history.get(history.size() - 1).get("reason").asText();
    }

    private List<String> fullLog(int id) throws Exception {
        List<String> out = new ArrayList<>();
        server.getJson("/batches/" + id + "/log?from=0&size=-1").get("log").forEach(l -> out.add(l.asText()));
        return out;
    }
}
