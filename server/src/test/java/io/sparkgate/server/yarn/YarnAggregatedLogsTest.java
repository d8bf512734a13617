package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.grpc.GrpcClients;
import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.api.v1.BatchServiceGrpc.BatchServiceBlockingStub;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.LogAggregationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * YARN with log aggregation on: the NodeManager uploads a finished container's logs to the remote log
 * directory and deletes its own copy. A batch whose server was down while its driver finished still
 * gets the whole driver output, from the aggregated logs, after a restart; no driver line appears
 * twice and the lines shown before keep their numbers.
 */
class YarnAggregatedLogsTest {

    private static final Duration YARN_APP_TIMEOUT = Duration.ofMinutes(4);
    private static final int TICKS = 20;

    @TempDir
    static Path tmp;

    private static MiniYarn yarn;

    @BeforeAll
    static void startYarn() {
        yarn = MiniYarn.start(tmp.resolve("yarn"), Map.of(
                "yarn.log-aggregation-enable", "true",
                "yarn.nodemanager.remote-app-log-dir", tmp.resolve("remote-logs").toUri().toString()));
    }

    @AfterAll
    static void stop() {
        if (yarn != null) {
            yarn.close();
        }
    }

    private static TestServer startServer() {
        String javaHome = System.getProperty("java.home");
        String spark = ConfigKeys.SPARK_CONF.name();
        return TestServer.start(tmp.resolve("data"), Map.ofEntries(
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
    }

    @Test
    void aRestartedServerServesTheWholeDriverOutputFromTheAggregatedLogsWithoutRepeats() throws Exception {
        int id;
        List<String> before;
        String appId;
        try (TestServer first = startServer()) {
            BatchServiceBlockingStub batches = GrpcClients.newClient(first.baseUrl(), BatchServiceBlockingStub.class);
            id = batches.createBatch(CreateBatchRequest.newBuilder()
                    .setFile(TestServer.EXAMPLES_JAR.toString())
                    .setClassName("io.sparkgate.examples.SleepingApp")
                    .addArgs(Integer.toString(TICKS))
                    .build()).getId();
            await("the first driver lines").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                    .until(() -> fullLog(batches, id).contains("[driver stdout] tick 2"));
            before = fullLog(batches, id);
            appId = batches.getBatch(GetBatchRequest.newBuilder().setId(id).build()).getAppId();
        } // the server stops mid-run; the application goes on

        ApplicationId app = ApplicationId.fromString(appId);
        await("the application ends and its logs are aggregated").atMost(YARN_APP_TIMEOUT)
                .pollInterval(Duration.ofSeconds(1)).until(() -> {
                    ApplicationReport r = yarn.client().getApplicationReport(app);
                    return r.getYarnApplicationState() == YarnApplicationState.FINISHED
                            && r.getLogAggregationStatus() == LogAggregationStatus.SUCCEEDED;
                });
        // The NodeManager has dropped its own copy: only the aggregated logs have the driver's output now.
        await("the NodeManager's local logs are gone").atMost(Duration.ofMinutes(1))
                .until(() -> !Files.exists(tmp.resolve("yarn").resolve("nm-logs").resolve(appId))
                        || isEmptyDir(tmp.resolve("yarn").resolve("nm-logs").resolve(appId)));

        try (TestServer second = startServer()) {
            BatchServiceBlockingStub batches = GrpcClients.newClient(second.baseUrl(), BatchServiceBlockingStub.class);
            await("the re-attached batch ends").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                    .until(() -> state(batches, id) == BatchState.BATCH_STATE_SUCCESS);
            List<String> after = fullLog(batches, id);

            // Every tick once, in order: the ones shown before the restart and the rest from the aggregated logs.
            List<String> ticks = after.stream().filter(l -> l.startsWith("[driver stdout] tick ")).toList();
            assertThat(ticks).containsExactlyElementsOf(
                    IntStream.range(0, TICKS).mapToObj(i -> "[driver stdout] tick " + i).toList());
            // Lines already shown keep their numbers.
            assertThat(after.subList(0, before.size())).isEqualTo(before);
            assertThat(after).noneMatch(l -> l.contains("could not be read"));
        }
    }

    private static boolean isEmptyDir(Path dir) throws java.io.IOException {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static BatchState state(BatchServiceBlockingStub batches, int id) {
        return batches.getBatchState(GetBatchStateRequest.newBuilder().setId(id).build()).getState();
    }

    private static List<String> fullLog(BatchServiceBlockingStub batches, int id) {
        return batches.getBatchLog(GetBatchLogRequest.newBuilder().setId(id).setFrom(0).setSize(-1).build())
                .getLogList();
    }
}
