package io.sparkgate.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.StateChange;
import io.sparkgate.api.v1.WatchBatchRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Issue 7, figure 2: SparkPi through the server (create → {@code running}, create → {@code success}, as
 * a client watching the batch sees them) against the same {@code bin/spark-submit} command run
 * directly (process start, process exit 0), alternating direct and server runs so both see the same
 * machine weather.
 */
final class SubmissionBench {

    static final String SECTION = "3. Submission overhead (SparkPi)";

    private final Bench.Settings settings;
    private final Report report;

    SubmissionBench(Bench.Settings settings, Report report) {
        this.settings = settings;
        this.report = report;
    }

    void run() throws Exception {
        int runs = settings.quick() ? 1 : 7;
        report.section(SECTION);
        long[] directRunning = new long[runs];
        long[] directSuccess = new long[runs];
        long[] serverRunning = new long[runs];
        long[] recordedRunning = new long[runs];
        long[] serverSuccess = new long[runs];
        long[] paired = new long[runs];
        Split[] splits = new Split[runs];
        Path data = settings.work().resolve("submission-data");
        try (ServerProcess server = ServerProcess.startSparkgate("submission", settings.repo(), ServerProcess.freePort(),
                data, null, settings.work().resolve("server-submission.log"))) {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                BatchServiceGrpc.BatchServiceBlockingStub stub = BatchServiceGrpc.newBlockingStub(channel);
                // Warm-up, discarded: the first spark-submit pays for a cold page cache; the first server run
                // for this JVM's gRPC channel (connection, HTTP/2 set-up, class loading of the create and watch
                // calls): 150-180 ms of client-side time seen in a run that took the server 17 ms.
                if (!settings.quick()) {
                    direct(0, new long[1], new long[1]);
                    warmClient(stub, viaServer(stub, 0, new long[1], new long[1]));
                }
                for (int i = 0; i < runs; i++) {
                    direct(i, directRunning, directSuccess);
                    long cpu0 = server.cpuTicks();
                    long wall0 = System.currentTimeMillis();
                    int id = viaServer(stub, i, serverRunning, serverSuccess);
                    recordedRunning[i] = recordedRunningMillis(stub, id);
                    long cpuMillis = (server.cpuTicks() - cpu0) * 1000 / settings.clockTicksPerSecond();
                    splits[i] = Split.of(data.resolve("batches").resolve(Integer.toString(id)), wall0, serverSuccess[i], cpuMillis);
                    paired[i] = serverSuccess[i] - directSuccess[i];
                    System.out.printf(Locale.ROOT, "[bench] SparkPi run %d: direct %d/%d ms, server %d/%d ms (running/success); "
                            + "outside/before/after/CPU %s ms%n", i, directRunning[i], directSuccess[i], serverRunning[i],
                            serverSuccess[i], splits[i]);
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        long dr = median(directRunning);
        long ds = median(directSuccess);
        long sr = median(serverRunning);
        long ss = median(serverSuccess);
        double ratio = (double) ss / ds;
        report.row(SECTION, new Report.Row("create → `success`, median of " + runs, ss + " ms",
                ds + " ms (spark-submit run directly → exit 0)", Bench.ratio(ratio) + "; " + String.format(Locale.ROOT, "%+d ms", ss - ds),
                "≤ direct + 50 ms", ss - ds <= 50));
        long pairedMedian = median(paired);
        report.row(SECTION, new Report.Row("create → `success` minus the direct run just before it, median of the " + runs
                + " pairs", String.format(Locale.ROOT, "%+d ms", pairedMedian), "pairs " + Arrays.toString(paired) + " ms", "", "", null));
        long[] outside = Arrays.stream(splits).mapToLong(Split::outsideMillis).toArray();
        long[] before = Arrays.stream(splits).mapToLong(Split::beforeMillis).toArray();
        long[] after = Arrays.stream(splits).mapToLong(Split::afterMillis).toArray();
        long[] cpu = Arrays.stream(splits).mapToLong(Split::cpuMillis).toArray();
        report.row(SECTION, new Report.Row("create → `success` outside the application's own process, median of " + runs,
                median(outside) + " ms (create → its spark-submit started " + median(before) + " ms; spark-submit gone → "
                + "`success` seen " + median(after) + " ms); server CPU meanwhile " + median(cpu) + " ms",
                "", "", "", null));
        report.row(SECTION, new Report.Row("create → `running`, median of " + runs, sr + " ms",
                dr + " ms (direct: until the process is started)", "+" + (sr - dr) + " ms", "≤ 20 ms", sr <= 20));
        report.row(SECTION, new Report.Row("create → `running` as the server recorded it, median of " + runs,
                median(recordedRunning) + " ms (the batch's created time → its `running` entry; all runs "
                + Arrays.toString(recordedRunning) + " ms)", "", "", "", null));
        report.note(SECTION, "Same command both ways: `spark-dist/target/spark-home/bin/spark-submit --master local[*] --class "
                + "io.sparkgate.examples.SparkPi examples/target/sparkgate-examples.jar` (the server adds its own `--conf`s and "
                + "runs it through SparkLauncher). Runs alternate direct/server; one direct run first warms the page cache and is "
                + "discarded, and so is one server run, after which the bench's gRPC client runs 1,000 reads and watches of that batch so that the client's own JIT is not timed as the server's (not in BENCH_QUICK). Server times are what a gRPC client sees: from calling `CreateBatch` to receiving the state over "
                + "`WatchBatch` (subscribed right after the create answered).");
        report.note(SECTION, "All runs: direct running " + Arrays.toString(directRunning) + " ms, success "
                + Arrays.toString(directSuccess) + " ms; server running " + Arrays.toString(serverRunning) + " ms, success "
                + Arrays.toString(serverSuccess) + " ms.");
        report.note(SECTION, "Outside the application's own process: the server run's create → `success` minus the lifetime of "
                + "its spark-submit as the server's wrapper recorded it (the wrapper writes `pid` in the batch directory right "
                + "before it starts spark-submit and `exit-code` right after spark-submit is gone; the files' modification times, "
                + "this machine's clock, as is the create's): what the server adds around the application (the create's commit, "
                + "the launch, the wrapper's start, noticing the exit, recording `success`, telling the watcher), free of the run "
                + "time of Spark itself, which varies by far more than the target from one run to the next (direct runs above). "
                + "Server CPU = Δ(utime+stime) of the server process over the whole server run: what the server took from the "
                + "2 cores the application runs on. Per run (outside / before / after / CPU, ms): "
                + Arrays.stream(splits).map(Split::toString).collect(Collectors.joining("; ")) + ".");
    }

    /**
     * One server run split at its spark-submit's start and end, as the wrapper's files in the batch directory
     * tell them.
     */
    private record Split(long beforeMillis, long appMillis, long afterMillis, long cpuMillis) {
        static Split of(Path batchDir, long createWallMillis, long successMillis, long cpuMillis) throws IOException {
            long started = Files.getLastModifiedTime(batchDir.resolve("pid")).toMillis();
            long ended = Files.getLastModifiedTime(batchDir.resolve("exit-code")).toMillis();
            return new Split(started - createWallMillis, ended - started, createWallMillis + successMillis - ended, cpuMillis);
        }

        long outsideMillis() {
            return beforeMillis + afterMillis;
        }

        @Override
        public String toString() {
            return outsideMillis() + "/" + beforeMillis + "/" + afterMillis + "/" + cpuMillis;
        }
    }

    /** From the batch's created time to its {@code running} entry, as the server stamped both. */
    private static long recordedRunningMillis(BatchServiceGrpc.BatchServiceBlockingStub stub, int id) {
        io.sparkgate.api.v1.Batch b = stub.getBatch(io.sparkgate.api.v1.GetBatchRequest.newBuilder().setId(id).build());
        com.google.protobuf.Timestamp created = b.getCreatedTime();
        return b.getStateHistoryList().stream().filter(c -> c.getState() == BatchState.BATCH_STATE_RUNNING).findFirst()
                .map(c -> (c.getTime().getSeconds() - created.getSeconds()) * 1000
                          + (c.getTime().getNanos() - created.getNanos()) / 1_000_000)
                .orElse(-1L);
    }

    /**
     * The client's side of a create and a watch, run until compiled, as a client that calls the server all
     * day would be: reads and watches of the finished warm-up batch, which touch no launch.
     */
    private static void warmClient(BatchServiceGrpc.BatchServiceBlockingStub stub, int id) {
        for (int i = 0; i < 1000; i++) {
            stub.getBatch(io.sparkgate.api.v1.GetBatchRequest.newBuilder().setId(id).build());
            Iterator<StateChange> changes = stub.watchBatch(WatchBatchRequest.newBuilder().setId(id).build());
            while (changes.hasNext()) {
                changes.next();
            }
        }
    }

    private void direct(int i, long[] running, long[] success) throws Exception {
        Path dir = Files.createDirectories(settings.work().resolve("direct-" + i + "-" + System.nanoTime()));
        ProcessBuilder pb = new ProcessBuilder(settings.sparkHome().resolve("bin/spark-submit").toString(),
                "--master", "local[*]", "--class", "io.sparkgate.examples.SparkPi", settings.examplesJar().toString())
                .directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("output").toFile());
        pb.environment().remove("SPARK_HOME");
        pb.environment().remove("SPARKGATE_BATCH_DIR");
        // The server runs its drivers with SPARK_LOCAL_IP=127.0.0.1 in local mode: the same here.
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        long t0 = System.nanoTime();
        Process p = pb.start();
        running[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new IllegalStateException("direct spark-submit did not finish in 180 s");
        }
        success[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        if (p.exitValue() != 0) {
            throw new IllegalStateException("direct spark-submit exited " + p.exitValue() + "; see " + dir.resolve("output"));
        }
    }

    /** One SparkPi through the server, timed as a client sees it; returns its batch id. */
    private int viaServer(BatchServiceGrpc.BatchServiceBlockingStub stub, int i, long[] running, long[] success) {
        long t0 = System.nanoTime();
        int id = stub.createBatch(CreateBatchRequest.newBuilder().setFile(settings.examplesJar().toString())
                .setClassName("io.sparkgate.examples.SparkPi").build()).getId();
        Iterator<StateChange> changes = stub.withDeadlineAfter(180, TimeUnit.SECONDS)
                .watchBatch(WatchBatchRequest.newBuilder().setId(id).build());
        BatchState last = BatchState.BATCH_STATE_UNSPECIFIED;
        while (changes.hasNext()) {
            last = changes.next().getState();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            if (last == BatchState.BATCH_STATE_RUNNING) {
                running[i] = ms;
            } else if (last == BatchState.BATCH_STATE_SUCCESS) {
                success[i] = ms;
            }
        }
        if (last != BatchState.BATCH_STATE_SUCCESS) {
            throw new IllegalStateException("SparkPi batch " + id + " ended " + last);
        }
        return id;
    }

    static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    static List<Long> list(long[] values) {
        return Arrays.stream(values).boxed().toList();
    }
}
