package io.sparkgate.server.batch;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchState;

/**
 * What the batch layer tells the server's metrics, and nothing more: the batch layer calls it after a
 * change is saved, from whichever thread made the change; implementations must be thread-safe and must
 * not block (they count and return). {@link #NONE} ignores everything, for tests and embedding.
 */
public interface BatchMetrics {

    /** How a create ended. */
    enum Submission { ACCEPTED, DEDUPLICATED, REJECTED }

    /** Why a batch ended {@code dead} before its application ran. A fixed set: each is a metric label. */
    enum LaunchFailure {
        /** The launcher refused or could not start {@code spark-submit} (bad Spark home, YARN refused, ...). */
        SUBMIT_FAILED,
        /** {@code spark-submit} (or the YARN application) ended failed before the application ran. */
        FAILED_BEFORE_RUNNING,
        /** Waited longer than {@code sparkgate.timeout.not-started}. */
        WAIT_TIMEOUT,
        /** Started longer than {@code sparkgate.timeout.starting}. */
        START_TIMEOUT,
        /** A fault of the server's own while launching. */
        INTERNAL
    }

    /** A create was answered: a new batch, the batch an earlier create with the same request id made, or a refusal. */
    void submitted(Submission outcome);

    /** {@code batch} moved from {@code from} to its current state (the last of its history), saved. */
    void changed(Batch batch, BatchState from);

    /** {@code batch} ended {@code dead} without its application having run (counted besides {@link #changed}). */
    void launchFailed(LaunchFailure reason);

    /** Counts nothing. */
    BatchMetrics NONE = new BatchMetrics() {
        @Override
        public void submitted(Submission outcome) {}

        @Override
        public void changed(Batch batch, BatchState from) {}

        @Override
        public void launchFailed(LaunchFailure reason) {}
    };
}
