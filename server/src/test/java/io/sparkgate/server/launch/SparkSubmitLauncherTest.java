package io.sparkgate.server.launch;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkgate.server.TestServer;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkSubmitLauncherTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    /** SparkLauncher checks some values itself: one it refuses is a failed launch with the reason, not a stray exception. */
    @Test
    void aValueSparkLauncherRefusesIsALaunchFailureWithTheReason(@TempDir Path dir) throws Exception {
        SparkSubmitLauncher launcher = new SparkSubmitLauncher(ConfigLoader.fromMap(Map.of(
                ConfigKeys.DATA_DIR.name(), dir.toString(),
                ConfigKeys.SPARK_HOME.name(), TestServer.SPARK_HOME.toString())), scheduler);
        BatchRequest request = BatchRequest.of("/x/app.jar").withConf(Map.of("colour", "blue"));
        Path work = Files.createDirectories(dir.resolve("batch"));

        assertThatThrownBy(() -> launcher.launch(0, request, work, work.resolve("output"), new LaunchListener() {
            @Override
            public void onRunning(String reason) {}

            @Override
            public void onAppId(String appId) {}

            @Override
            public void onAppInfo(String sparkUiUrl, String driverLogUrl) {}
        })).isInstanceOf(LaunchException.class).hasMessageContaining("'key' must start with 'spark.'");
    }
}
