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

    /** The launcher's reports, which these tests do not look at. */
    private static final LaunchListener IGNORED = new LaunchListener() {
        @Override
        public void onRunning(String reason) {}

        @Override
        public void onAppId(String appId) {}

        @Override
        public void onAppInfo(String sparkUiUrl, String driverLogUrl) {}
    };

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

        assertThatThrownBy(() -> launcher.launch(0, request, work, work.resolve("output"), IGNORED))
                .isInstanceOf(LaunchException.class).hasMessageContaining("'key' must start with 'spark.'");
    }

    /**
     * With a Spark home that has PySpark, a Python batch reaches spark-submit as Livy sends it: the
     * {@code .py} file as the primary resource (no {@code --class}), the Python files as {@code --py-files}.
     * The home's spark-submit here only prints the arguments it was given, one per line.
     */
    @Test
    void aPythonBatchReachesSparkSubmitAsLivySendsIt(@TempDir Path dir) throws Exception {
        Path home = Files.createDirectories(dir.resolve("spark-home"));
        Files.createDirectories(home.resolve("python/lib"));
        Files.write(home.resolve(PySparkSupport.PYSPARK_ZIP), new byte[0]);
        Path submit = Files.createDirectories(home.resolve("bin")).resolve("spark-submit");
        Files.writeString(submit, "#!/usr/bin/env bash\nfor a in \"$@\"; do printf 'argv: %s\\n' \"$a\"; done\n");
        Files.setPosixFilePermissions(submit, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        SparkSubmitLauncher launcher = new SparkSubmitLauncher(ConfigLoader.fromMap(Map.of(
                ConfigKeys.DATA_DIR.name(), dir.resolve("data").toString(),
                ConfigKeys.SPARK_HOME.name(), home.toString(),
                ConfigKeys.SPARK_MASTER.name(), "local[1]")), scheduler);
        BatchRequest request = pythonRequest("/jobs/pi.py", java.util.List.of("/jobs/deps.py", "/jobs/lib.zip"))
                .withArgs(java.util.List.of("10"));
        Path work = Files.createDirectories(dir.resolve("batch"));
        Path output = work.resolve("output");

        launcher.check(request); // a home with PySpark takes it
        LaunchedApp app = launcher.launch(0, request, work, output, IGNORED);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(1)).until(app::hasEnded);

        java.util.List<String> argv = Files.readAllLines(output).stream()
                .filter(l -> l.startsWith("argv: ")).map(l -> l.substring(6)).toList();
        org.assertj.core.api.Assertions.assertThat(argv)
                .containsSubsequence("--master", "local[1]")
                .containsSubsequence("--py-files", "/jobs/deps.py,/jobs/lib.zip")
                .endsWith("/jobs/pi.py", "10")
                .doesNotContain("--class");
        org.assertj.core.api.Assertions.assertThat(app.exit().succeeded()).isTrue();
    }

    /**
     * A delete can come at any moment of a launch, down to the instant the wrapper forks spark-submit:
     * whatever the moment, no application is left running once the kill has had its grace period. The
     * Spark home's spark-submit here records its pid and sleeps, honouring SIGTERM as a driver does.
     */
    @Test
    void aBatchKilledAtAnyMomentOfItsLaunchLeavesNoApplicationRunning(@TempDir Path dir) throws Exception {
        Path apps = Files.createDirectories(dir.resolve("apps"));
        Path home = Files.createDirectories(dir.resolve("spark-home"));
        Path submit = Files.createDirectories(home.resolve("bin")).resolve("spark-submit");
        Files.writeString(submit, "#!/usr/bin/env bash\necho $$ > " + apps + "/app.$$\n"
                + "trap 'kill $s 2>/dev/null; exit 143' TERM\nsleep 60 & s=$!\nwait $s\n");
        Files.setPosixFilePermissions(submit, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        SparkSubmitLauncher launcher = new SparkSubmitLauncher(ConfigLoader.fromMap(Map.of(
                ConfigKeys.DATA_DIR.name(), dir.resolve("data").toString(),
                ConfigKeys.SPARK_HOME.name(), home.toString(),
                ConfigKeys.KILL_GRACE_PERIOD.name(), "1s",
                ConfigKeys.SPARK_MASTER.name(), "local[1]")), scheduler);
        java.util.List<LaunchedApp> launched = new java.util.ArrayList<>();

        // Kills from right after the start to well after the fork, 0.5 ms apart: some land in between.
        for (int i = 0; i < 60; i++) {
            Path work = Files.createDirectories(dir.resolve("batch-" + i));
            LaunchedApp app = launcher.launch(i, BatchRequest.of("/jobs/app.jar").withClassName("Sleeper"), work,
                    work.resolve("output"), IGNORED);
            java.util.concurrent.locks.LockSupport.parkNanos(i * 500_000L);
            app.kill();
            launched.add(app);
        }

        for (LaunchedApp app : launched) {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(app::hasEnded);
            org.assertj.core.api.Assertions.assertThat(app.exit().succeeded()).isFalse();
        }
        Thread.sleep(1_500); // past the grace period, whatever was SIGTERMed last
        java.util.List<Long> alive;
        try (var files = Files.list(apps)) {
            alive = files.map(f -> Long.parseLong(f.getFileName().toString().substring(4)))
                    .filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).toList();
        }
        alive.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        org.assertj.core.api.Assertions.assertThat(alive).as("applications still running after their kill").isEmpty();
    }

    @Test
    void aPythonBatchIsRefusedByASparkHomeWithoutPySpark(@TempDir Path dir) {
        SparkSubmitLauncher launcher = new SparkSubmitLauncher(ConfigLoader.fromMap(Map.of(
                ConfigKeys.DATA_DIR.name(), dir.toString(),
                ConfigKeys.SPARK_HOME.name(), TestServer.SPARK_HOME.toString())), scheduler);

        assertThatThrownBy(() -> launcher.check(BatchRequest.of("/jobs/pi.py")))
                .isInstanceOf(io.sparkgate.server.values.InvalidBatchRequestException.class)
                .hasMessageContaining("'file' is a Python application").hasMessageContaining("SPARK_HOME");
        assertThatThrownBy(() -> launcher.check(pythonRequest("/jobs/app.jar", java.util.List.of("/d.py"))))
                .hasMessageContaining("'pyFiles'");
        launcher.check(BatchRequest.of("/jobs/app.jar")); // a JVM batch is fine
    }

    private static BatchRequest pythonRequest(String file, java.util.List<String> pyFiles) {
        return new BatchRequest(file, "", "", "", java.util.List.of(), java.util.List.of(), pyFiles, java.util.List.of(),
                java.util.List.of(), "", java.util.OptionalInt.empty(), "", java.util.OptionalInt.empty(),
                java.util.OptionalInt.empty(), "", Map.of());
    }
}
