package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The tracker against a simulated ResourceManager, polled by hand. */
class YarnTrackerTest {

    private final StubResourceManager rm = new StubResourceManager();
    private final MutableClock clock = new MutableClock();
    // A poll interval far beyond the test: every poll here is a pollNow().
    private final YarnTracker tracker = new YarnTracker(rm, Duration.ofHours(1), Duration.ofSeconds(60), clock);

    @AfterEach
    void close() {
        tracker.close();
    }

    @Test
    void oneResourceManagerCallPerPollHoweverManyBatches() {
        List<Seen> seen = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            Seen s = new Seen();
            seen.add(s);
            String tag = "sparkgate-batch-" + i + "-abcd";
            tracker.track(tag, Optional.empty(), s);
            rm.submit(tag);
        }

        tracker.pollNow();
        tracker.pollNow();

        assertThat(rm.listCalls.get()).isEqualTo(2);
        assertThat(seen).allSatisfy(s -> assertThat(s.reports).singleElement()
                .satisfies(r -> assertThat(r.phase()).isEqualTo(AppPhase.STARTING)));
    }

    @Test
    void followsAnApplicationToItsEndAndThenForgetsIt() {
        Seen seen = new Seen();
        tracker.track("t1", Optional.empty(), seen);
        String appId = rm.submit("t1");
        tracker.pollNow();
        rm.set(appId, YarnApplicationState.RUNNING, FinalApplicationStatus.UNDEFINED, "");
        tracker.pollNow();
        rm.set(appId, YarnApplicationState.FINISHED, FinalApplicationStatus.FAILED, "User class threw exception");
        tracker.pollNow();

        assertThat(seen.reports).extracting(AppReport::phase)
                .containsExactly(AppPhase.STARTING, AppPhase.RUNNING, AppPhase.FAILED);
        assertThat(seen.reports.get(2).diagnostics()).isEqualTo("User class threw exception");
        assertThat(seen.reports.get(2).appId()).isEqualTo(appId);
        assertThat(tracker.trackedCount()).isZero();
        long calls = rm.listCalls.get();
        tracker.pollNow();
        assertThat(rm.listCalls.get()).as("nothing to follow, nothing asked").isEqualTo(calls);
    }

    @Test
    void anApplicationNeverFoundIsGivenUpAndKilledWhenItTurnsUpLate() {
        Seen seen = new Seen();
        tracker.track("late", Optional.empty(), seen);
        tracker.pollNow();
        clock.advance(Duration.ofSeconds(61));
        tracker.pollNow();

        assertThat(seen.notFound).singleElement().asString().contains("late", "60 s");

        String appId = rm.submit("late");
        rm.set(appId, YarnApplicationState.RUNNING, FinalApplicationStatus.UNDEFINED, "");
        tracker.pollNow();
        assertThat(rm.state(appId)).isEqualTo(YarnApplicationState.KILLED);
        assertThat(seen.reports).isEmpty();
    }

    @Test
    void aFailedSubmitterWithoutApplicationIsGivenUpAtTheNextPoll() {
        Seen seen = new Seen();
        YarnTracker.Tracking t = tracker.track("nojar", Optional.empty(), seen);
        tracker.pollNow();
        t.submitterFailed("spark-submit exited with code 1 before YARN accepted an application");
        tracker.pollNow();

        assertThat(seen.notFound).containsExactly("spark-submit exited with code 1 before YARN accepted an application");
    }

    @Test
    void aKillAskedBeforeTheApplicationIsFoundReachesItOnceFound() {
        Seen seen = new Seen();
        YarnTracker.Tracking t = tracker.track("early-kill", Optional.empty(), seen);
        t.kill();
        String appId = rm.submit("early-kill");
        tracker.pollNow();
        tracker.pollNow();

        assertThat(rm.state(appId)).isEqualTo(YarnApplicationState.KILLED);
        assertThat(seen.reports).extracting(AppReport::phase).endsWith(AppPhase.KILLED);
    }

    @Test
    void reattachesByTagAndKnownApplicationId() {
        String other = rm.submit("again");
        String mine = rm.submit("again");
        rm.set(mine, YarnApplicationState.RUNNING, FinalApplicationStatus.UNDEFINED, "");
        Seen seen = new Seen();
        tracker.track("again", Optional.of(mine), seen);
        tracker.pollNow();

        assertThat(seen.reports).singleElement().satisfies(r -> {
            assertThat(r.appId()).isEqualTo(mine).isNotEqualTo(other);
            assertThat(r.phase()).isEqualTo(AppPhase.RUNNING);
        });
    }

    static final class Seen implements YarnTracker.Observer {
        final List<AppReport> reports = new CopyOnWriteArrayList<>();
        final List<String> notFound = new CopyOnWriteArrayList<>();

        @Override
        public void onReport(AppReport report) {
            reports.add(report);
        }

        @Override
        public void onNotFound(String reason) {
            notFound.add(reason);
        }
    }

    static final class MutableClock extends Clock {
        private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
