package io.sparkgate.server.yarn;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc.BatchServiceBlockingStub;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.StateChange;
import io.sparkgate.examples.FailingApp;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.ConfigLoader;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batches on a real YARN (a MiniYARNCluster in this JVM) through the real server, over gRPC and Livy
 * REST: state, app id and links come from YARN, the driver's output reaches the batch log, deletes kill
 * through YARN. One cluster and one server for the class: a cluster-mode app takes ~20 s here.
 */
class YarnBatchesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration YARN_APP_TIMEOUT = Duration.ofMinutes(4);
    private static final List<BatchState> FINAL = List.of(
            BatchState.BATCH_STATE_SUCCESS, BatchState.BATCH_STATE_DEAD, BatchState.BATCH_STATE_KILLED);
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();

    @TempDir
    static Path tmp;

    private static MiniYarn yarn;
    private static TestServer server;
    private static BatchServiceBlockingStub batches;

    @BeforeAll
    static void startYarnAndServer() {
        yarn = MiniYarn.start(tmp.resolve("yarn"));
        String javaHome = System.getProperty("java.home");
        String spark = ConfigKeys.SPARK_CONF.name();
        server = TestServer.start(tmp.resolve("data"), Map.ofEntries(
                Map.entry(ConfigKeys.SPARK_MASTER.name(), "yarn"),
                Map.entry(ConfigKeys.YARN_CONF_DIR.name(), yarn.confDir().toString()),
                Map.entry(ConfigKeys.YARN_POLL_INTERVAL.name(), "500ms"),
                Map.entry(spark + "spark.yarn.stagingDir", tmp.resolve("staging").toUri().toString()),
                Map.entry(spark + "spark.yarn.maxAppAttempts", "1"),
                Map.entry(spark + "spark.executor.instances", "1"),
                Map.entry(spark + "spark.executor.cores", "1"),
                Map.entry(spark + "spark.executor.memory", "512m"),
                Map.entry(spark + "spark.yarn.appMasterEnv.JAVA_HOME", javaHome),
                Map.entry(spark + "spark.executorEnv.JAVA_HOME", javaHome),
                Map.entry(spark + "spark.yarn.appMasterEnv.SPARK_LOCAL_IP", "127.0.0.1"),
                Map.entry(spark + "spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")));
        batches = GrpcClients.newClient(server.baseUrl(), BatchServiceBlockingStub.class);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (yarn != null) {
            yarn.close();
        }
    }

    @Test
    void piSucceedsOnYarnWithTheDriversOutputInTheLog() throws Exception {
        Batch created = batches.createBatch(CreateBatchRequest.newBuilder()
                .setFile(EXAMPLES)
                .setClassName("io.sparkgate.examples.SparkPi")
                .addArgs("2")
                .build());

        assertThat(awaitFinal(created.getId())).isEqualTo(BatchState.BATCH_STATE_SUCCESS);
        Batch done = batches.getBatch(GetBatchRequest.newBuilder().setId(created.getId()).build());
        assertThat(done.getAppId()).startsWith("application_");
        assertThat(done.getAppInfo().getSparkUiUrl()).isNotEmpty();
        assertThat(done.getAppInfo().getDriverLogUrl()).contains("container_");
        assertThat(done.getStateHistoryList()).extracting(StateChange::getState).containsSubsequence(
                BatchState.BATCH_STATE_STARTING, BatchState.BATCH_STATE_RUNNING, BatchState.BATCH_STATE_SUCCESS);
        assertThat(lastReason(done)).contains("YARN", done.getAppId(), "SUCCEEDED");
        List<String> log = fullLog(created.getId());
        assertThat(log).anySatisfy(line -> assertThat(line).startsWith("[driver stdout] Pi is roughly 3."));
        // spark-submit's own output is there too, before the driver's.
        assertThat(log).anySatisfy(line -> assertThat(line).contains("Submitting application"));
        assertThat(YarnState.of(done.getAppId())).isEqualTo(YarnApplicationState.FINISHED);
    }

    @Test
    void failingAppEndsDeadWithYarnsDiagnosticsInTheLog() throws Exception {
        int id = createOverRest("""
                {"file": "%s", "className": "io.sparkgate.examples.FailingApp"}
                """.formatted(EXAMPLES));

        assertThat(awaitFinal(id)).isEqualTo(BatchState.BATCH_STATE_DEAD);
        Batch done = batches.getBatch(GetBatchRequest.newBuilder().setId(id).build());
        assertThat(lastReason(done)).contains("FAILED", FailingApp.MESSAGE);
        assertThat(fullLog(id))
                .anySatisfy(line -> assertThat(line).startsWith("[sparkgate] YARN diagnostics:"))
                .anySatisfy(line -> assertThat(line).startsWith("[driver stderr]").contains(FailingApp.MESSAGE));
        JsonNode state = JSON.readTree(server.get("/batches/" + id + "/state").body());
        assertThat(state.get("state").asText()).isEqualTo("dead");
    }

    @Test
    void deletingARunningBatchKillsItsApplicationInYarn() throws Exception {
        int id = createOverRest("""
                {"file": "%s", "className": "io.sparkgate.examples.SleepingApp", "args": [600]}
                """.formatted(EXAMPLES));
        await("running on YARN").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500)).until(() ->
                state(id) == BatchState.BATCH_STATE_RUNNING);
        String appId = batches.getBatch(GetBatchRequest.newBuilder().setId(id).build()).getAppId();
        assertThat(YarnState.of(appId)).isEqualTo(YarnApplicationState.RUNNING);

        long start = System.nanoTime();
        HttpResponse<String> deleted = server.call("DELETE", "/batches/" + id, null);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(deleted.body()).get("msg").asText()).isEqualTo("deleted");
        assertThat(took).isLessThan(Duration.ofSeconds(5));
        assertThat(server.get("/batches/" + id).statusCode()).isEqualTo(404);
        await("YARN says KILLED").atMost(Duration.ofMinutes(1)).until(() ->
                YarnState.of(appId) == YarnApplicationState.KILLED);
    }

    @Test
    void missingJarEndsDeadWithAReason() throws Exception {
        // A missing local file is refused at create (400); one at a URL only spark-submit finds missing.
        int id = createOverRest("""
                {"file": "https://127.0.0.1:9/no-such-app.jar", "className": "io.sparkgate.examples.SparkPi"}
                """);

        assertThat(awaitFinal(id)).isEqualTo(BatchState.BATCH_STATE_DEAD);
        Batch done = batches.getBatch(GetBatchRequest.newBuilder().setId(id).build());
        assertThat(done.getAppId()).isEmpty();
        assertThat(lastReason(done)).contains("spark-submit exited with code", "before YARN accepted an application");
        assertThat(fullLog(id)).anySatisfy(line -> assertThat(line).contains("no-such-app.jar"));
    }

    /** What YARN itself says about an application. */
    private static final class YarnState {
        static YarnApplicationState of(String appId) throws Exception {
            return yarn.client().getApplicationReport(ApplicationId.fromString(appId)).getYarnApplicationState();
        }
    }

    private static int createOverRest(String body) throws Exception {
        HttpResponse<String> created = server.call("POST", "/batches", body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("id").asInt();
    }

    private static BatchState state(int id) {
        return batches.getBatchState(GetBatchStateRequest.newBuilder().setId(id).build()).getState();
    }

    private static BatchState awaitFinal(int id) {
        await("batch " + id + " final").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> FINAL.contains(state(id)));
        return state(id);
    }

    private static String lastReason(Batch batch) {
        return batch.getStateHistory(batch.getStateHistoryCount() - 1).getReason();
    }

    private static List<String> fullLog(int id) {
        return batches.getBatchLog(GetBatchLogRequest.newBuilder().setId(id).setFrom(0).setSize(-1).build())
                .getLogList();
    }
}
