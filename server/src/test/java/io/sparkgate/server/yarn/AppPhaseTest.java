package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** YARN's (state, final status) → a batch's phase. */
class AppPhaseTest {

    @ParameterizedTest(name = "{0} + {1} -> {2}")
    @CsvSource({
            "NEW,        UNDEFINED, STARTING",
            "NEW_SAVING, UNDEFINED, STARTING",
            "SUBMITTED,  UNDEFINED, STARTING",
            "ACCEPTED,   UNDEFINED, STARTING",
            "RUNNING,    UNDEFINED, RUNNING",
            // The AM unregistered with SUCCEEDED but YARN has not moved on yet: still running.
            "RUNNING,    SUCCEEDED, RUNNING",
            "FINISHED,   SUCCEEDED, SUCCEEDED",
            "FINISHED,   ENDED,     SUCCEEDED",
            "FINISHED,   FAILED,    FAILED",
            "FINISHED,   UNDEFINED, FAILED",
            "FINISHED,   KILLED,    KILLED",
            "FAILED,     FAILED,    FAILED",
            "FAILED,     UNDEFINED, FAILED",
            "KILLED,     KILLED,    KILLED",
            "KILLED,     UNDEFINED, KILLED",
    })
    void mapsYarnStates(YarnApplicationState state, FinalApplicationStatus status, AppPhase expected) {
        assertThat(AppPhase.of(state, status)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"STARTING, false", "RUNNING, false", "SUCCEEDED, true", "FAILED, true", "KILLED, true"})
    void finalPhases(AppPhase phase, boolean isFinal) {
        assertThat(phase.isFinal()).isEqualTo(isFinal);
    }
}
