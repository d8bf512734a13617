package io.sparkgate.server.launch;

import io.sparkgate.server.values.LaunchInfo;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.config.SparkgateConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.launcher.LauncherServerPin;
import org.apache.spark.launcher.SparkAppHandle;
import org.apache.spark.launcher.SparkLauncher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each batch as a {@code spark-submit} child process through {@link SparkLauncher#startApplication}.
 *
 * <p>The process writes its stdout and stderr straight into the batch's output file, so the log is on
 * disk as it is produced and the application does not depend on the server to drain a pipe. The
 * launcher handle reports the application id and Spark's view of the state; but a failing application
 * can report FINISHED a moment before its non-zero exit, and one that never starts a SparkContext ends
 * LOST, so the end of a batch is decided by the exit code that {@link SubmitWrapper our wrapper} writes
 * into the batch directory ({@code exit-code}) once the Spark home's own {@code spark-submit} is gone,
 * together with its own pid at start ({@code pid}). Every batch starts through the wrapper, so the
 * embedded Spark home and a user's own distribution behave the same.
 *
 * <p>Just over 300 lines: a launched and a re-attached {@code spark-submit} are two views of the same
 * process files (pid, exit code), kept side by side.
 */
public final class SparkSubmitLauncher implements Launcher {

    private static final Logger log = LoggerFactory.getLogger(SparkSubmitLauncher.class);

    /** A handle's first final state can be followed by another (FINISHED, then FAILED on a bad exit). */
    private static final Duration SETTLE = Duration.ofSeconds(1);
    /** The wrapper writes its exit code right before it exits; without it after this long, it was killed. */
    private static final Duration EXIT_CODE_WAIT = Duration.ofSeconds(5);

    /** A wrapper starts in milliseconds; one that has written no pid after this long never will. */
    private static final Duration PID_WAIT = Duration.ofSeconds(5);
    /** How often a kill looks for the pid of a wrapper that has not written it yet. */
    private static final Duration PID_POLL = Duration.ofMillis(5);

    /** Written by our {@code bin/spark-submit} into the batch directory: its own pid, at start. */
    static final String PID_FILE = "pid";
    /** Written by our {@code bin/spark-submit} after the driver is gone: the driver's exit code. */
    static final String EXIT_CODE_FILE = "exit-code";

    private final SparkgateConfig config;
    private final ScheduledExecutorService scheduler;
    private final SubmitWrapper wrapper;

    /** Installs the wrapper in the data directory: a start fails here if it cannot be written. */
    public SparkSubmitLauncher(SparkgateConfig config, ScheduledExecutorService scheduler) {
        this.config = requireNonNull(config, "config");
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.wrapper = SubmitWrapper.install(config.dataDir());
        scheduler.execute(this::warmUp);
    }

    /**
     * Off the start-up path, what the first launch would otherwise pay on the way to {@code running}
     * (measured: 110 ms for the first launch of a server, against 4-7 ms for later ones): SparkLauncher's
     * classes and its launcher server, held open from now on ({@link LauncherServerPin}: reopened per
     * launch, it cost each launch after an idle moment a socket and two thread starts).
     */
    private void warmUp() {
        try {
            LauncherServerPin.pin();
            new SparkLauncher(Map.of()).setSparkHome(wrapper.home().toString()).setMaster(config.sparkMaster())
                    .setAppResource("warm-up").setMainClass("warm.Up").directory(wrapper.home().toFile())
                    .redirectError().redirectOutput(wrapper.home().resolve("warm-up").toFile());
        } catch (IOException | RuntimeException e) {
            log.debug("launcher warm-up failed; the first launch pays for it", e);
        }
    }

    /** The Spark home's {@code bin/spark-submit}; a launch fails with a clear reason when it is missing. */
    public static Path requireSparkSubmit(SparkgateConfig config) {
        Path submit = config.sparkHome().resolve("bin").resolve("spark-submit");
        if (!Files.isExecutable(submit)) {
            throw new LaunchException("no executable " + submit + " (set sparkgate.spark.home or SPARK_HOME)", null);
        }
        return submit;
    }

    @Override
    public void check(BatchRequest request) {
        PySparkSupport.check(config.sparkHome(), request);
    }

    @Override
    public LaunchedApp launch(int batchId, BatchRequest request, Path workDir, Path outputFile,
                              LaunchListener listener) {
        requireSparkSubmit(config);
        Map<String, String> env = new HashMap<>(SubmitWrapper.environment(config.sparkHome()));
        if (config.sparkMaster().startsWith("local")) {
            // The driver's UI and RPC listen on loopback only, like the server.
            env.put("SPARK_LOCAL_IP", "127.0.0.1");
        }
        Child child = new Child(batchId, workDir, listener);
        try {
            // Inside the try: SparkLauncher checks arguments itself, and a value it refuses ends the batch
            // with the reason rather than escaping as an unexpected error.
            SparkLauncher launcher = SparkSubmitCommand.of(wrapper.home(), config.sparkMaster(), request,
                    config.sparkConf(), workDir, outputFile, env);
            Files.createDirectories(workDir);
            // Leftovers of an earlier attempt must not be taken for this one's.
            Files.deleteIfExists(child.exitCodeFile);
            Files.deleteIfExists(child.pidFile);
            child.handle = launcher.startApplication(child);
        } catch (IOException | RuntimeException e) {
            throw new LaunchException("cannot start spark-submit: " + e.getMessage(), e);
        }
        // As in Livy's local mode: the batch runs once its driver process does, whether or not the
        // application ever starts a SparkContext.
        listener.onRunning("spark-submit started");
        return child;
    }

    /**
     * Finds the {@code spark-submit} of an earlier server process: ended if its {@code exit-code} is
     * there; still running if the recorded pid is alive and started when it was recorded (or, when
     * nothing was recorded, the pid in the batch directory started right before it wrote that file).
     */
    @Override
    public Optional<LaunchedApp> reattach(RecordedLaunch recorded, LaunchListener listener) {
        Path workDir = recorded.workDir();
        Path exitCodeFile = workDir.resolve(EXIT_CODE_FILE);
        if (Files.exists(exitCodeFile)) {
            return Optional.of(new Adopted(recorded.batchId(), exitCodeFile, Optional.empty()));
        }
        Optional<ProcessHandle> process = recorded.process().isPresent()
                ? recorded.process().flatMap(SparkSubmitLauncher::sameProcess)
                : writerOfPidFile(workDir.resolve(PID_FILE));
        if (process.isEmpty()) {
            // It may have ended between the two looks.
            return Files.exists(exitCodeFile)
                    ? Optional.of(new Adopted(recorded.batchId(), exitCodeFile, Optional.empty()))
                    : Optional.empty();
        }
        listener.onRunning("spark-submit re-attached after a server restart");
        return Optional.of(new Adopted(recorded.batchId(), exitCodeFile, process));
    }

    /** The process {@code info} names, if it still runs: same pid and same start time. */
    private static Optional<ProcessHandle> sameProcess(LaunchInfo info) {
        return ProcessHandle.of(info.pid())
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().startInstant().map(info.processStart()::equals).orElse(false));
    }

    /**
     * The process whose pid the wrapper wrote, if it runs and started just before the file was written
     * (a later process with a reused pid started after it). The start time the OS reports is derived
     * from the boot time in whole seconds, hence the slack.
     */
    private static Optional<ProcessHandle> writerOfPidFile(Path pidFile) {
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            Instant written = Files.getLastModifiedTime(pidFile).toInstant();
            return ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    .filter(p -> p.info().startInstant()
                            .map(start -> !start.isAfter(written.plusSeconds(1))
                                          && !start.isBefore(written.minusSeconds(30)))
                            .orElse(false));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private void killTree(int batchId, ProcessHandle p) {
        ProcessTree.kill(batchId, p, config.killGracePeriod(), scheduler);
    }

    private static OptionalInt readExitCode(Path exitCodeFile) {
        try {
            return OptionalInt.of(Integer.parseInt(Files.readString(exitCodeFile).trim()));
        } catch (IOException | NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /**
     * A {@code spark-submit} started by an earlier server process, followed through its pid and its
     * {@code exit-code} file (it is not our child: its exit status reaches us only through the file).
     */
    private final class Adopted implements LaunchedApp {
        private final int batchId;
        private final Path exitCodeFile;
        private final Optional<ProcessHandle> process;

        Adopted(int batchId, Path exitCodeFile, Optional<ProcessHandle> process) {
            this.batchId = batchId;
            this.exitCodeFile = exitCodeFile;
            this.process = process;
        }

        @Override
        public boolean hasEnded() {
            // The wrapper writes exit-code before it exits: once it is gone, the file is there or never will be.
            return Files.exists(exitCodeFile) || process.map(p -> !p.isAlive()).orElse(true);
        }

        @Override
        public AppExit exit() {
            OptionalInt code = readExitCode(exitCodeFile);
            if (code.isPresent()) {
                int c = code.getAsInt();
                return new AppExit(c == 0, code, "spark-submit exited with code " + c);
            }
            return new AppExit(false, OptionalInt.empty(), "spark-submit ended without an exit code after a server restart");
        }

        @Override
        public void kill() {
            process.filter(ProcessHandle::isAlive).ifPresent(p -> killTree(batchId, p));
        }

        @Override
        public Optional<LaunchInfo> launchInfo() {
            return process.flatMap(p -> p.info().startInstant().map(start -> new LaunchInfo(p.pid(), start)));
        }
    }

    /** One spark-submit process. */
    private final class Child implements LaunchedApp, SparkAppHandle.Listener {
        private final int batchId;
        private final Path pidFile;
        private final Path exitCodeFile;
        private final LaunchListener listener;
        private final AtomicBoolean appIdReported = new AtomicBoolean();
        private final AtomicBoolean exitWatched = new AtomicBoolean();
        private volatile SparkAppHandle handle;
        private volatile long handleFinalAtNanos = -1;

        Child(int batchId, Path workDir, LaunchListener listener) {
            this.batchId = batchId;
            this.pidFile = workDir.resolve(PID_FILE);
            this.exitCodeFile = workDir.resolve(EXIT_CODE_FILE);
            this.listener = listener;
        }

        @Override
        public void stateChanged(SparkAppHandle h) {
            reportAppId(h);
            if (h.getState().isFinal() && handleFinalAtNanos < 0) {
                handleFinalAtNanos = System.nanoTime();
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

        @Override
        public boolean hasEnded() {
            watchExit();
            if (Files.exists(exitCodeFile)) {
                return true;
            }
            long finalAt = handleFinalAtNanos;
            if (finalAt < 0) {
                return false;
            }
            Duration wait = Files.exists(pidFile) ? EXIT_CODE_WAIT : SETTLE;
            return System.nanoTime() - finalAt > wait.toNanos()
                    && readPid().stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        }

        /**
         * Once the wrapper's pid is known, tells the listener the moment it exits: the wrapper is this JVM's
         * own child, so the JDK's process reaper sees its exit at once, sooner than the next poll.
         */
        private void watchExit() {
            if (exitWatched.get()) {
                return;
            }
            OptionalLong pid = readPid();
            if (pid.isPresent() && exitWatched.compareAndSet(false, true)) {
                ProcessHandle.of(pid.getAsLong()).ifPresentOrElse(
                        p -> p.onExit().thenRun(listener::onExited), listener::onExited);
            }
        }

        /**
         * Connected back and told its application id (a local driver does both as its SparkContext
         * starts), or gone. One that never opens a SparkContext never connects: it counts as handed
         * over only once it ends, so a server stopping meanwhile waits for it up to its bound.
         */
        @Override
        public boolean handedOver() {
            SparkAppHandle h = handle;
            return h == null || h.getState().isFinal()
                    || (h.getState() != SparkAppHandle.State.UNKNOWN && appIdReported.get())
                    || Files.exists(exitCodeFile);
        }

        @Override
        public AppExit exit() {
            OptionalInt code = readExitCode();
            if (code.isPresent()) {
                int c = code.getAsInt();
                return new AppExit(c == 0, code, "spark-submit exited with code " + c);
            }
            // The wrapper was killed before it could write one (SIGKILL): whatever the handle last said,
            // nothing tells that the application succeeded.
            return new AppExit(false, OptionalInt.empty(),
                    "spark-submit ended without an exit code (Spark state " + handle.getState() + ")");
        }

        @Override
        public void kill() {
            killOnceStarted(System.nanoTime() + PID_WAIT.toNanos());
        }

        /**
         * Signals the wrapper's tree once its pid is known. Before that the wrapper has no child, but the
         * handle's kill (SIGKILL of the wrapper) is safe only if it does not fork in the moment between
         * reading no pid and the kill, and a loaded machine makes that moment long enough (a burst of
         * deletes at launch left stand-in apps running, orphaned). The wrapper traps SIGTERM from before
         * it writes its pid, so waiting for the pid and sending SIGTERM cancels it in every state; the
         * handle kills only a wrapper that writes none in time.
         */
        private void killOnceStarted(long deadlineNanos) {
            OptionalLong pid = readPid();
            if (pid.isPresent()) {
                // Gone already: it ended by itself, nothing is left to signal.
                ProcessHandle.of(pid.getAsLong()).ifPresent(p -> killTree(batchId, p));
                return;
            }
            SparkAppHandle h = handle;
            if (h.getState().isFinal() || System.nanoTime() - deadlineNanos > 0) {
                h.kill();
                return;
            }
            try {
                scheduler.schedule(() -> killOnceStarted(deadlineNanos), PID_POLL.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                h.kill(); // the server is stopping: no later look
            }
        }

        @Override
        public Optional<LaunchInfo> launchInfo() {
            return readPid().stream().boxed()
                    .map(ProcessHandle::of).flatMap(Optional::stream)
                    .flatMap(p -> p.info().startInstant().map(start -> new LaunchInfo(p.pid(), start)).stream())
                    .findFirst();
        }

        private OptionalLong readPid() {
            try {
                return OptionalLong.of(Long.parseLong(Files.readString(pidFile).trim()));
            } catch (IOException | NumberFormatException e) {
                return OptionalLong.empty();
            }
        }

        private OptionalInt readExitCode() {
            try {
                return OptionalInt.of(Integer.parseInt(Files.readString(exitCodeFile).trim()));
            } catch (IOException | NumberFormatException e) {
                return OptionalInt.empty();
            }
        }
    }
}
