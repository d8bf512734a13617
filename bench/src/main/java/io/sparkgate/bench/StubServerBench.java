package io.sparkgate.bench;

final class StubServerBench {
    StubServerBench(Bench.Settings settings, Report report, java.util.Set<String> phases) {
    }

    void run() {
        throw new UnsupportedOperationException("not yet");
    }
}
