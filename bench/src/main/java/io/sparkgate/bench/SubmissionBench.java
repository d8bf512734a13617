package io.sparkgate.bench;

final class SubmissionBench {
    SubmissionBench(Bench.Settings settings, Report report) {
    }

    void run() {
        throw new UnsupportedOperationException("not yet");
    }
}
