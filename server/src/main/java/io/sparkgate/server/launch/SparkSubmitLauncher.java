package io.sparkgate.server.launch;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.batch.BatchRequest;
import io.sparkgate.server.config.SparkgateConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.launcher.SparkAppHandle;
import org.apache.spark.launcher.SparkLauncher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each batch as a {@code spark-submit} child process through {@link SparkLauncher#startApplication}.
 *
 * <p>The launcher handle reports the application id and Spark's view of the state, but a failing
 * application can report FINISHED a moment before its non-zero exit is seen. So the end of a batch
 * is decided by the exit code: our {@code bin/spark-submit} prints, on the output stream it shares
 * with the application, a start line with its pid and, after the driver exits, a line with the exit
 * code. Both carry a secret per-launch marker so an application cannot forge them, and since they
 * travel on the same stream as the log, the exit line arrives only after every log line. A Spark home
 * without our script (a user's own {@code SPARK_HOME}) falls back to the handle's final state.
 */
public final class SparkSubmitLauncher implements Launcher, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SparkSubmitLauncher.class);

    private final SparkgateConfig config;
    private final ScheduledExecutorService scheduler;
    private final OutputCapture capture = new OutputCapture();

    public SparkSubmitLauncher(SparkgateConfig config, ScheduledExecutorService scheduler) {
        this.config = requireNonNull(config, "config");
        this.scheduler = requireNonNull(scheduler, "scheduler");
    }

    @Override
    public LaunchedApp launch(int batchId, BatchRequest request, Path workDir, LaunchListener listener) {
        Path submit = config.sparkHome().resolve("bin").resolve("spark-submit");
        if (!Files.isExecutable(submit)) {
            throw new LaunchException("no executable " + submit + " (set sparkgate.spark.home or SPARK_HOME)", null);
        }
        String marker = "#sparkgate-" + UUID.randomUUID();
        Map<String, String> env = new HashMap<>();
        env.put("SPARKGATE_BATCH_DIR", workDir.toString());
        env.put("SPARKGATE_MARKER", marker);
        if (config.sparkMaster().startsWith("local")) {
            // The driver's UI and RPC listen on loopback only, like the server.
            env.put("SPARK_LOCAL_IP", "127.0.0.1");
        }
        Child child = new Child(batchId, marker, listener);
        String loggerName = capture.register(batchId, marker.substring(marker.length() - 8), child::onLine);
        child.loggerName = loggerName;
        SparkLauncher launcher = new SparkLauncher(env)
                .setSparkHome(config.sparkHome().toString())
                .setMaster(config.sparkMaster())
                .setAppResource(request.file())
                .directory(workDir.toFile())
                .redirectToLog(loggerName);
        List<String> options = SparkSubmitArguments.options(request, config.sparkConf());
        for (int i = 0; i < options.size(); i += 2) {
            launcher.addSparkArg(options.get(i), options.get(i + 1));
        }
        launcher.addAppArgs(request.args().toArray(String[]::new));
        try {
            Files.createDirectories(workDir);
            child.handle = launcher.startApplication(child);
        } catch (IOException | RuntimeException e) {
            capture.unregister(loggerName);
            throw new LaunchException("cannot start spark-submit: " + e.getMessage(), e);
        }
        return child;
    }

    @Override
    public void close() {
        capture.close();
    }

    /** One spark-submit process: its output, its handle, its end. */
    private final class Child implements LaunchedApp, SparkAppHandle.Listener {
        private final int batchId;
        private final String marker;
        private final LaunchListener listener;
        private final AtomicBoolean appIdReported = new AtomicBoolean();
        private final AtomicBoolean exited = new AtomicBoolean();
        private final AtomicBoolean finalSeen = new AtomicBoolean();
        private volatile String loggerName;
        private volatile SparkAppHandle handle;
        private volatile long wrapperPid = -1;

        Child(int batchId, String marker, LaunchListener listener) {
            this.batchId = batchId;
            this.marker = marker;
            this.listener = listener;
        }

        void onLine(String line) {
            if (!line.startsWith(marker)) {
                if (!exited.get()) {
                    listener.onLogLine(line);
                }
                return;
            }
            String[] words = line.substring(marker.length()).trim().split("\\s+");
            if (words.length == 2 && words[0].equals("start")) {
                wrapperPid = Long.parseLong(words[1]);
            } else if (words.length == 2 && words[0].equals("exit")) {
                int code = Integer.parseInt(words[1]);
                exit(new AppExit(code == 0, OptionalInt.of(code), code == 0
                        ? "spark-submit exited with code 0"
                        : "spark-submit exited with code " + code));
            }
        }

        @Override
        public void stateChanged(SparkAppHandle h) {
            reportAppId(h);
            if (h.getState().isFinal() && finalSeen.compareAndSet(false, true)) {
                long pid = wrapperPid;
                if (pid > 0) {
                    // Our script prints the exit line right before it exits; give it a moment after that.
                    ProcessHandle.of(pid).map(ProcessHandle::onExit)
                            .orElse(java.util.concurrent.CompletableFuture.completedFuture(null))
                            .thenRun(() -> scheduler.schedule(this::exitFromHandle, 5, TimeUnit.SECONDS));
                } else {
                    // No exit line will come: let a FINISHED that is followed by FAILED settle first.
                    scheduler.schedule(this::exitFromHandle, 1, TimeUnit.SECONDS);
                }
            }
        }

        @Override
        public void infoChanged(SparkAppHandle h) {
            reportAppId(h);
        }

        private void reportAppId(SparkAppHandle h) {
            String appId = h.getAppId();
            if (appId != null && appIdReported.compareAndSet(false, true)) {
                listener.onAppId(appId);
            }
        }

        private void exitFromHandle() {
            SparkAppHandle.State state = handle.getState();
            boolean ok = state == SparkAppHandle.State.FINISHED;
            exit(new AppExit(ok, OptionalInt.empty(), "spark-submit ended in Spark state " + state));
        }

        private void exit(AppExit appExit) {
            if (exited.compareAndSet(false, true)) {
                capture.unregister(loggerName);
                listener.onExit(appExit);
            }
        }

        @Override
        public void kill() {
            long pid = wrapperPid;
            if (pid <= 0) {
                // Only a foreign spark-submit (or one that has not printed yet): the handle kills it.
                SparkAppHandle h = handle;
                if (h != null) {
                    h.kill();
                }
                return;
            }
            ProcessHandle.of(pid).ifPresent(wrapper -> {
                wrapper.descendants().forEach(ProcessHandle::destroy);
                wrapper.destroy();
                long graceMillis = config.killGracePeriod().toMillis();
                scheduler.schedule(() -> {
                    wrapper.descendants().forEach(ProcessHandle::destroyForcibly);
                    if (wrapper.isAlive()) {
                        log.info("batch {}: spark-submit still alive after {} ms, killing it", batchId, graceMillis);
                        wrapper.destroyForcibly();
                    }
                }, graceMillis, TimeUnit.MILLISECONDS);
            });
        }
    }
}
