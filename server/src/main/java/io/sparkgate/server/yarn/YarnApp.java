package io.sparkgate.server.yarn;

import io.sparkgate.server.values.Text;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.launch.AppExit;
import io.sparkgate.server.launch.LaunchListener;
import io.sparkgate.server.launch.LaunchedApp;
import io.sparkgate.server.launch.ProcessTree;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One batch on YARN: what the tracker says about its application, its {@code spark-submit} process
 * (absent when re-attached) and the following of its driver's log.
 *
 * <p>Threads: {@link #onReport} / {@link #onNotFound} come from the tracker; {@link #step} from the
 * launcher's driver-log thread, which alone writes to the output file once {@code spark-submit} is gone
 * (so lines never interleave with the process's); {@link #hasEnded} from the log tailer.
 */
final class YarnApp implements LaunchedApp, YarnTracker.Observer {

    private static final Logger log = LoggerFactory.getLogger(YarnApp.class);

    /** The last driver lines may still be written when YARN says FINISHED: fetch the rest a bit later. */
    private static final Duration SETTLE = Duration.ofSeconds(2);
    /**
     * How long after the end a driver file the NodeManager no longer has is waited for in the aggregated
     * logs (NodeManagers upload when the application ends; a busy one takes a while).
     */
    private static final Duration AGGREGATION_WAIT = Duration.ofMinutes(2);
    private static final int REASON_MAX = 500;

    final int batchId;
    private final String tag;
    private final Path outputFile;
    private final LaunchListener listener;
    private final Process submitter;
    private final Duration killGrace;
    private final ScheduledExecutorService scheduler;
    private final Optional<AggregatedLogs> aggregatedLogs;
    volatile YarnTracker.Tracking tracking;

    // Written by the tracker thread.
    private volatile AppReport report;
    private volatile String notFound;
    private volatile long finalSeenAtNanos;
    private boolean appIdReported;
    private boolean runningReported;
    private String infoReported = "";

    private volatile boolean killRequested;
    /** Set by {@link #release}: another replica follows the application; this one stops. */
    private volatile boolean released;
    /** Set once by whichever of kill() (an API call's thread) and step() (the driver-log thread) stops it first. */
    private final AtomicBoolean submitterStopped = new AtomicBoolean();

    // Written by the driver-log thread.
    private boolean submitterEndNoted;
    private DriverLog driverLog;
    private volatile boolean ended;

    YarnApp(int batchId, String tag, Path outputFile, LaunchListener listener, Process submitter,
            Duration killGrace, ScheduledExecutorService scheduler, Optional<AggregatedLogs> aggregatedLogs) {
        this.aggregatedLogs = requireNonNull(aggregatedLogs, "aggregatedLogs");
        this.batchId = batchId;
        this.tag = requireNonNull(tag, "tag");
        this.outputFile = requireNonNull(outputFile, "outputFile");
        this.listener = requireNonNull(listener, "listener");
        this.submitter = submitter;
        this.killGrace = requireNonNull(killGrace, "killGrace");
        this.scheduler = requireNonNull(scheduler, "scheduler");
    }

    @Override
    public void onReport(AppReport r) {
        if (!appIdReported) {
            appIdReported = true;
            listener.onAppId(r.appId());
        }
        String logUrl = r.amContainer().map(AmContainer::logUrl).orElse("");
        String info = r.trackingUrl() + "\n" + logUrl;
        if (!info.equals(infoReported) && !(r.trackingUrl().isEmpty() && logUrl.isEmpty())) {
            infoReported = info;
            listener.onAppInfo(r.trackingUrl(), logUrl);
        }
        if (r.phase() == AppPhase.RUNNING && !runningReported) {
            runningReported = true;
            listener.onRunning("YARN: " + r.appId() + " is RUNNING");
        }
        if (r.phase().isFinal() && finalSeenAtNanos == 0) {
            finalSeenAtNanos = System.nanoTime();
        }
        report = r;
    }

    @Override
    public void onNotFound(String reason) {
        log.info("batch {}: {}", batchId, reason);
        notFound = reason;
    }

    @Override
    public boolean hasEnded() {
        return ended;
    }

    @Override
    public AppExit exit() {
        AppReport r = report;
        if (r == null || !r.phase().isFinal()) {
            String reason = notFound != null ? notFound : "the batch stopped following its YARN application (tag " + tag + ")";
            return new AppExit(AppExit.Outcome.FAILED, OptionalInt.empty(), reason);
        }
        String what = "YARN: " + r.appId() + " " + r.yarnState() + " with final status " + r.finalStatus();
        return switch (r.phase()) {
            case SUCCEEDED -> new AppExit(AppExit.Outcome.SUCCEEDED, OptionalInt.empty(), what);
            case KILLED -> new AppExit(AppExit.Outcome.KILLED, OptionalInt.empty(), withDiagnostics(what, r));
            default -> new AppExit(AppExit.Outcome.FAILED, OptionalInt.empty(), withDiagnostics(what, r));
        };
    }

    private static String withDiagnostics(String what, AppReport r) {
        if (r.diagnostics().isEmpty()) {
            return what;
        }
        String d = r.diagnostics().replaceAll("\\s+", " ");
        return what + ": " + Text.abbreviate(d, REASON_MAX);
    }

    /** Kills the application through YARN (at once, or once found) and ends {@code spark-submit}. Returns at once. */
    @Override
    public void kill() {
        killRequested = true;
        YarnTracker.Tracking t = tracking;
        if (t != null) {
            t.kill();
        }
        stopSubmitter();
    }

    /** Stops polling YARN and fetching the driver's log for this batch; the application runs on. */
    @Override
    public void release() {
        released = true;
        YarnTracker.Tracking t = tracking;
        if (t != null) {
            t.stop();
        }
        log.info("batch {}: no longer following its YARN application (tag {}) here: another replica does",
                batchId, tag);
    }

    private void stopSubmitter() {
        Process p = submitter;
        if (p == null || !p.isAlive() || !submitterStopped.compareAndSet(false, true)) {
            return;
        }
        ProcessTree.kill(batchId, p.toHandle(), killGrace, scheduler);
    }

    /**
     * One round of follow-up on the driver-log thread; returns true once the batch has ended (all its
     * output is in the file, so {@link #hasEnded} can say so).
     */
    boolean step() {
        if (ended || released) {
            return true;
        }
        AppReport r = report;
        boolean finalKnown = (r != null && r.phase().isFinal()) || notFound != null;
        if (submitter != null && submitter.isAlive()) {
            if (finalKnown || killRequested) {
                stopSubmitter(); // with waitAppCompletion=false it should be gone already
            }
            return false;
        }
        if (submitter != null && !submitterEndNoted) {
            submitterEndNoted = true;
            int code = submitter.exitValue();
            if (code != 0 && report == null) {
                tracking.submitterFailed("spark-submit exited with code " + code
                        + " before YARN accepted an application");
            }
            append(notice("spark-submit exited with code " + code
                    + (report == null ? "" : "; the application runs on YARN as " + report.appId())));
        }
        boolean settled = finalKnown
                && (notFound != null || System.nanoTime() - finalSeenAtNanos > SETTLE.toNanos());
        if (r != null && r.amContainer().isPresent() && (r.phase() == AppPhase.RUNNING || settled)) {
            AmContainer am = r.amContainer().get();
            if (driverLog == null || !driverLog.containerId().equals(am.containerId())) {
                if (driverLog != null) {
                    driverLog.finish(this::appendBytes);
                }
                driverLog = new DriverLog(am, r.appId(), r.user(), aggregatedLogs,
                        outputFile.resolveSibling(DriverLog.STATE_FILE));
                if (!driverLog.resumed()) {
                    append(notice("the driver's output (" + r.appId() + ", container " + am.containerId()
                            + ") follows; its lines start with " + DriverLog.STDOUT_PREFIX.trim() + " or "
                            + DriverLog.STDERR_PREFIX.trim()));
                }
            }
            driverLog.fetch(this::appendBytes);
        }
        if (!settled) {
            return false;
        }
        if (driverLog != null) {
            boolean giveUp = notFound != null || System.nanoTime() - finalSeenAtNanos > AGGREGATION_WAIT.toNanos();
            if (!driverLog.finish(this::appendBytes, giveUp)) {
                return false; // waiting for the aggregated logs
            }
        }
        if (r != null && r.phase().isFinal()) {
            append(notice("YARN: " + r.appId() + " " + r.yarnState() + " with final status " + r.finalStatus()));
            if (r.phase() != AppPhase.SUCCEEDED && !r.diagnostics().isEmpty()) {
                for (String line : r.diagnostics().split("\\R")) {
                    append(notice("YARN diagnostics: " + line));
                }
            }
        } else {
            append(notice(notFound));
        }
        ended = true;
        return true;
    }

    private static String notice(String text) {
        return Text.NOTICE + text;
    }

    /** Appends whole lines (each ends with a newline) to the batch's output; the log tailer indexes them. */
    private void append(String line) {
        appendBytes((line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private void appendBytes(byte[] lines) {
        try {
            Files.write(outputFile, lines, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("batch " + batchId + ": cannot append to " + outputFile, e);
        }
    }

}
