package io.sparkgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The performance suite: starts the real server as a separate process, drives it from this JVM, and
 * writes BENCHMARKS.md. Run through {@code bench/run.sh}, which builds everything first.
 *
 * <p>Arguments: {@code REPO OUT_FILE WORK_DIR}. Environment: {@code BENCH_QUICK=1} for short phases
 * (a smoke run of the tooling, figures not meant to be quoted); {@code BENCH_PHASES} a comma list of
 * {@code streaming,submission,replicas,api,burst,scale} (default all; {@code memory} alone: the idle-RSS figure of {@code api}). Exit code 1 when a phase errored, 0
 * otherwise; missed targets are printed loudly and listed at the top of the report.
 */
public final class Bench {

    /** Every phase, in the order they run. */
    private static final String ALL_PHASES = "streaming,submission,replicas,api,burst,scale";

    /** Everything a phase needs to know about this run. */
    record Settings(Path repo, Path work, boolean quick, long clockTicksPerSecond, long deadlineNanos) {
        /** Time left before the run's own limit (BENCH_TIME_LIMIT, as bench/run.sh passes what is left of its own, less a margin for the report). */
        long remainingNanos() {
            return deadlineNanos - System.nanoTime();
        }

        Path examplesJar() {
            return repo.resolve("examples/target/sparkgate-examples.jar");
        }

        Path sparkHome() {
            return repo.resolve("spark-dist/target/spark-home");
        }

        Path stubSparkHome() {
            return repo.resolve("bench/stub-spark-home");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Bench REPO OUT_FILE WORK_DIR");
            System.exit(2);
        }
        Path repo = Path.of(args[0]).toAbsolutePath().normalize();
        Path out = Path.of(args[1]).toAbsolutePath();
        Path work = Path.of(args[2]).toAbsolutePath();
        Files.createDirectories(work);
        boolean quick = "1".equals(System.getenv("BENCH_QUICK"));
        String phaseList = System.getenv().getOrDefault("BENCH_PHASES", ALL_PHASES);
        Set<String> phases = Arrays.stream(phaseList.split(",")).map(String::trim).collect(Collectors.toSet());
        long ticks = Long.getLong("bench.clk-tck", 100);
        long limitSeconds = Long.parseLong(System.getenv().getOrDefault("BENCH_TIME_LIMIT", "1500"));
        Settings s = new Settings(repo, work, quick, ticks, System.nanoTime() + TimeUnit.SECONDS.toNanos(limitSeconds - 60));
        Report report = new Report();
        long t0 = System.nanoTime();
        String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);

        if (phases.contains("streaming")) {
            run(report, "1. Log streaming latency", () -> new StreamingBench(s, report).run());
        }
        if (phases.contains("submission")) {
            run(report, "3. Submission overhead (SparkPi)", () -> new SubmissionBench(s, report).run());
        }
        if (phases.contains("replicas")) {
            // Before the stub server's phases: the scale phase plans its seeding with whatever time is left.
            run(report, ReplicaBench.SECTION, () -> new ReplicaBench(s, report).run());
        }
        if (phases.contains("api") || phases.contains("memory") || phases.contains("burst") || phases.contains("scale")) {
            run(report, "2. API throughput and latency", () -> new StubServerBench(s, report, phases).run());
        }

        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        List<String> header = new ArrayList<>();
        header.add("- Date: " + started + (quick ? " — **BENCH_QUICK=1 smoke run: short phases, figures are not to be quoted**" : ""));
        header.add("- Machine: " + Machine.describe());
        header.add("- Commit: " + Machine.gitCommit(repo));
        header.add("- Command: `" + (quick ? "BENCH_QUICK=1 " : "") + "bench/run.sh`"
                   + (phaseList.equals(ALL_PHASES) ? "" : " with `BENCH_PHASES=" + phaseList + "`")
                   + " (builds, installs wrk if missing, starts the servers on 127.0.0.1, writes this file); this run took "
                   + seconds + " s");
        header.add("- Every ratio compares two figures measured in this same run, on this same machine: on a small"
                   + " shared machine absolute figures move with the neighbours, ratios much less.");
        Files.writeString(out, report.markdown(header));
        System.out.println("[bench] wrote " + out + " in " + seconds + " s");

        List<String> missed = report.missed();
        List<String> errors = report.errors();
        if (!missed.isEmpty()) {
            System.out.println();
            System.out.println("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            System.out.println("!!! " + missed.size() + " TARGET(S) MISSED:");
            missed.forEach(m -> System.out.println("!!!   " + m));
            System.out.println("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        }
        if (!errors.isEmpty()) {
            System.out.println();
            System.out.println("XXX " + errors.size() + " ERROR(S): the run is not complete");
            errors.forEach(e -> System.out.println("XXX   " + e));
            System.exit(1);
        }
        System.exit(0);
    }

    interface Phase {
        void run() throws Exception;
    }

    private static void run(Report report, String section, Phase phase) {
        long t0 = System.nanoTime();
        System.out.println("[bench] === " + section);
        try {
            phase.run();
        } catch (Exception | AssertionError e) {
            e.printStackTrace(System.out);
            report.error(section, "phase failed: " + e);
        }
        System.out.printf(Locale.ROOT, "[bench] === %s done in %d s%n", section,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
    }

    static String pct(double value) {
        return String.format(Locale.ROOT, "%.0f%%", value);
    }

    static String ratio(double value) {
        return String.format(Locale.ROOT, "%.2f", value);
    }

    static long nowMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }

    static void writeLines(Path file, List<String> lines) throws IOException {
        Files.write(file, lines);
    }
}
