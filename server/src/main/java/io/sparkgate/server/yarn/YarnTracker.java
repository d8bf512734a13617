package io.sparkgate.server.yarn;

import com.linecorp.armeria.common.util.ThreadFactories;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.yarn.api.records.ApplicationAttemptId;
import org.apache.hadoop.yarn.api.records.ContainerId;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.ContainerReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the YARN applications of all batches with one thread and one ResourceManager call per
 * interval, however many batches there are: each poll asks for the applications carrying any tracked
 * tag (the RM filters by tag), and hands each batch its application's report when it changed. A
 * batch's application is found by its tag, so a batch whose {@code spark-submit} died before it said
 * the application id is still found, and a restarted server can re-attach by tag.
 *
 * <p>Beyond the poll, the RM is asked once per application attempt for its ApplicationMaster container
 * (for the driver's log), and once per kill.
 *
 * <p>An application that does not show up within the lookup timeout is given up ({@link
 * Observer#onNotFound}); its tag stays watched for as long again, and an application that turns up
 * with it late is killed, so nothing runs that no batch answers for.
 *
 * <p>Just over 300 lines: the poll, the per-application tracking it updates and the late-application
 * rule are one state machine on one thread.
 */
public final class YarnTracker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(YarnTracker.class);

    /** Told about one batch's application, on the tracker's thread; must not block. */
    public interface Observer {
        /** YARN's report of the application changed (first sight, state, links, diagnostics). */
        void onReport(AppReport report);

        /** No application with the batch's tag appeared in time (or its submitter failed without one). */
        void onNotFound(String reason);
    }

    private final ResourceManagerClient rm;
    private final Duration lookupTimeout;
    private final Clock clock;
    private final ScheduledExecutorService thread;
    private final Map<String, Tracking> tracked = new ConcurrentHashMap<>();
    /** Tags given up on, with when to stop watching them for late applications. */
    private final Map<String, Instant> abandoned = new ConcurrentHashMap<>();
    private volatile boolean rmDownLogged;

    /**
     * @param rm the ResourceManager; closed with the tracker
     * @param pollInterval time between polls (fixed delay)
     * @param lookupTimeout how long an application may take to appear
     */
    public YarnTracker(ResourceManagerClient rm, Duration pollInterval, Duration lookupTimeout, Clock clock) {
        this.rm = requireNonNull(rm, "rm");
        this.lookupTimeout = requireNonNull(lookupTimeout, "lookupTimeout");
        this.clock = requireNonNull(clock, "clock");
        this.thread = Executors.newSingleThreadScheduledExecutor(ThreadFactories.newThreadFactory("sparkgate-yarn-tracker", true));
        long micros = pollInterval.toNanos() / 1000;
        thread.scheduleWithFixedDelay(this::pollSafely, micros, micros, TimeUnit.MICROSECONDS);
    }

    /**
     * Starts following the application tagged {@code tag} (lowercase, as YARN stores tags).
     *
     * @param knownAppId the application id when already known (re-attaching after a restart)
     */
    public Tracking track(String tag, Optional<String> knownAppId, Observer observer) {
        requireNonNull(tag, "tag");
        requireNonNull(knownAppId, "knownAppId");
        requireNonNull(observer, "observer");
        Tracking t = new Tracking(tag, knownAppId.orElse(null), observer, clock.instant());
        abandoned.remove(tag);
        tracked.put(tag, t);
        return t;
    }

    /** Number of applications followed right now (a gauge, and tests). */
    int trackedCount() {
        return tracked.size();
    }

    /** One poll now, on the caller's thread; for tests and benchmarks that drive the tracker themselves. */
    void pollNow() {
        try {
            thread.submit(() -> {
                poll();
                return null;
            }).get();
        } catch (Exception e) {
            throw new IllegalStateException("poll failed", e);
        }
    }

    private void pollSafely() {
        try {
            poll();
        } catch (Exception e) {
            // The next poll tries again; until then no batch times out (see poll).
            if (!rmDownLogged) {
                log.warn("cannot poll the YARN ResourceManager: {}", e.toString());
                rmDownLogged = true;
            }
        }
    }

    private void poll() throws Exception {
        Instant now = clock.instant();
        abandoned.values().removeIf(until -> until.isBefore(now));
        if (tracked.isEmpty() && abandoned.isEmpty()) {
            return;
        }
        Set<String> tags = new HashSet<>(tracked.keySet());
        tags.addAll(abandoned.keySet());
        List<ApplicationReport> reports = rm.applicationsTagged(tags);
        if (rmDownLogged) {
            log.info("YARN ResourceManager answers again");
            rmDownLogged = false;
        }
        Map<String, List<ApplicationReport>> byTag = new HashMap<>();
        for (ApplicationReport r : reports) {
            for (String tag : r.getApplicationTags()) {
                if (tags.contains(tag)) {
                    byTag.computeIfAbsent(tag, k -> new ArrayList<>()).add(r);
                }
            }
        }
        for (Tracking t : tracked.values()) {
            t.update(byTag.getOrDefault(t.tag, List.of()), now);
        }
        abandoned.keySet().forEach(tag -> byTag.getOrDefault(tag, List.of()).forEach(late -> {
            AppPhase phase = AppPhase.of(late.getYarnApplicationState(), late.getFinalApplicationStatus());
            if (!phase.isFinal()) {
                log.warn("{} (tag {}) appeared after its batch gave up on it: killing it", late.getApplicationId(), tag);
                killQuietly(late.getApplicationId());
            }
        }));
    }

    private void killQuietly(ApplicationId appId) {
        try {
            rm.kill(appId);
        } catch (Exception e) {
            log.warn("cannot kill {}: {}", appId, e.toString());
        }
    }

    @Override
    public void close() {
        thread.shutdown();
        try {
            // Let a kill that was just asked for reach the RM.
            if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        rm.close();
    }

    /** One batch's application as the tracker follows it. Fields are touched by the tracker thread only. */
    public final class Tracking {
        private final String tag;
        private final Observer observer;
        private final Instant since;
        private volatile String appId;
        private volatile boolean killRequested;
        private boolean killSent;
        private volatile String submitterFailure;
        private ApplicationAttemptId amAttempt;
        private AmContainer am;
        private AppReport last;

        private Tracking(String tag, String appId, Observer observer, Instant since) {
            this.tag = tag;
            this.appId = appId;
            this.observer = observer;
            this.since = since;
        }

        public String tag() {
            return tag;
        }

        public Optional<String> appId() {
            return Optional.ofNullable(appId);
        }

        /**
         * The process that was to submit the application ended without success. If the next poll still
         * finds no application, there will be none: give up at once rather than at the lookup timeout.
         */
        public void submitterFailed(String reason) {
            submitterFailure = requireNonNull(reason, "reason");
        }

        /** Kills the application: right away when its id is known, else as soon as it is found. */
        public void kill() {
            killRequested = true;
            if (!thread.isShutdown()) {
                thread.execute(this::sendKill);
            }
        }

        /** No more polls for this application here: it is another replica's to follow (see YarnApp#release). */
        public void stop() {
            tracked.remove(tag, this);
        }

        private void sendKill() {
            String id = appId;
            if (id != null && !killSent && (last == null || !last.phase().isFinal())) {
                killSent = true;
                log.info("killing {} (tag {})", id, tag);
                killQuietly(ApplicationId.fromString(id));
            }
        }

        private void update(List<ApplicationReport> found, Instant now) {
            String failure = submitterFailure; // read before looking: it was set before this poll's call
            if (appId == null && !found.isEmpty()) {
                // Normally exactly one; should a submit have been retried, the first one is the batch's.
                appId = found.stream().min(Comparator.comparingLong(ApplicationReport::getSubmitTime))
                        .orElseThrow().getApplicationId().toString();
            }
            ApplicationReport report = found.stream()
                    .filter(r -> r.getApplicationId().toString().equals(appId)).findFirst().orElse(null);
            if (report == null) {
                if (appId == null && failure != null) {
                    giveUp(failure);
                } else if (Duration.between(since, now).compareTo(lookupTimeout) > 0) {
                    giveUp(appId == null
                            ? "no YARN application with tag " + tag + " appeared within " + lookupTimeout.toSeconds() + " s"
                            : "YARN no longer knows application " + appId);
                }
                return;
            }
            if (killRequested) {
                sendKill();
            }
            AppPhase phase = AppPhase.of(report.getYarnApplicationState(), report.getFinalApplicationStatus());
            ApplicationAttemptId attempt = report.getCurrentApplicationAttemptId();
            if (attempt != null && !attempt.equals(amAttempt) && phase != AppPhase.STARTING) {
                // Once per attempt, not per poll: the AM container is where the driver's log is.
                amAttempt = attempt;
                am = lookUpAmContainer(attempt, phase.isFinal()).orElse(am);
            }
            AppReport next = new AppReport(appId, phase, report.getYarnApplicationState().name(),
                    report.getFinalApplicationStatus().name(), nullToEmpty(report.getTrackingUrl()),
                    nullToEmpty(report.getDiagnostics()).trim(), Optional.ofNullable(am), nullToEmpty(report.getUser()));
            if (!next.equals(last)) {
                last = next;
                notify(next);
            }
            if (phase.isFinal()) {
                tracked.remove(tag, this);
            }
        }

        private Optional<AmContainer> lookUpAmContainer(ApplicationAttemptId attempt, boolean appEnded) {
            try {
                Optional<ContainerReport> c = rm.amContainer(attempt);
                return c.map(r -> new AmContainer(r.getContainerId().toString(), nullToEmpty(r.getNodeHttpAddress()),
                        nullToEmpty(r.getLogUrl())));
            } catch (Exception e) {
                if (appEnded) {
                    // The ResourceManager forgets a finished application's containers (a batch re-attached
                    // after its end asks too late). The AM's container is its attempt's first, and its
                    // output is in the aggregated logs, if anywhere: no NodeManager address is needed.
                    log.info("{}: no AM container report ({}); the driver's log is looked for in the aggregated logs",
                            appId, e.toString());
                    return Optional.of(new AmContainer(ContainerId.newContainerId(attempt, 1).toString(), "", ""));
                }
                log.info("{}: no AM container report ({}); the driver's log will not be followed", appId, e.toString());
                return Optional.empty();
            }
        }

        private void giveUp(String reason) {
            if (tracked.remove(tag, this)) {
                abandoned.put(tag, clock.instant().plus(lookupTimeout));
                try {
                    observer.onNotFound(reason);
                } catch (RuntimeException e) {
                    log.warn("tracker observer failed", e);
                }
            }
        }

        private void notify(AppReport report) {
            try {
                observer.onReport(report);
            } catch (RuntimeException e) {
                log.warn("tracker observer failed", e);
            }
        }
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
