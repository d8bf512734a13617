package io.sparkgate.bench;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.GetBatchStateResponse;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.ListBatchesResponse;
import io.sparkgate.api.v1.StateChange;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Issue 7's API (1), burst (3) and scale (4) figures, against one real server process whose Spark
 * home is {@code bench/stub-spark-home}: a stand-in {@code spark-submit} that keeps the batch-dir
 * contract but starts no JVM. Thousands of real Spark JVMs (or 200 SleepingApps alive at once) do not
 * fit in the bench's time or a 2-core machine's memory; every batch still goes through the server's
 * real create → launch (SparkLauncher, a real child process) → log indexing → final-state path.
 * Nothing in the server is faked.
 */
final class StubServerBench {

    static final String API = "2. API throughput and latency";
    static final String BURST = "4. Burst: 200 concurrent creates";
    static final String SCALE = "5. Scale";
    static final String MEMORY = "6. Memory";
    private static final int CONNECTIONS = 32;
    private static final int LAUNCH_THREADS = 2;
    private static final int LOG_LINES = 1000;
    private static final String NUMBERED_LINES = "io.sparkgate.examples.NumberedLines";
    private static final String SLEEPING_APP = "io.sparkgate.examples.SleepingApp";

    private final Bench.Settings settings;
    private final Report report;
    private final Set<String> phases;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private ServerProcess server;
    /** Whether the first start found a class-data archive of an earlier one. */
    private boolean emptyStartWithArchive;
    private BatchServiceGrpc.BatchServiceBlockingStub stub;

    StubServerBench(Bench.Settings settings, Report report, Set<String> phases) {
        this.settings = settings;
        this.report = report;
        this.phases = phases;
    }

    void run() throws Exception {
        boolean quick = settings.quick();
        Path data = settings.work().resolve("stub-data");
        Path config = settings.work().resolve("stub-server.conf");
        Files.writeString(config, String.join("\n",
                "# bench: real server, stand-in spark-submit (see bench/stub-spark-home/bin/spark-submit)",
                "sparkgate.spark.home = " + settings.stubSparkHome(),
                "sparkgate.launch.threads = " + LAUNCH_THREADS,
                "# room for the whole burst of 200 to queue behind the launch threads",
                "sparkgate.launch.queue-size = 250",
                "sparkgate.kill.grace-period = 5s",
                "# no load balancer to drain from: a stop need not wait for one",
                "sparkgate.drain.grace = 0s", ""));
        int port = ServerProcess.freePort();
        Path log = settings.work().resolve("server-stub.log");
        emptyStartWithArchive = classArchiveUsable();
        server = ServerProcess.startSparkgate("stub", settings.repo(), port, data, config, log);
        long emptyStartupMillis = TimeUnit.NANOSECONDS.toMillis(server.startupNanos());
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            stub = BatchServiceGrpc.newBlockingStub(channel);
            int stored = quick ? 300 : 1000;
            if (phases.contains("api") || phases.contains("memory")) {
                run(MEMORY, this::idleMemory);
            }
            long t0 = System.nanoTime();
            populate(stored, TimeUnit.SECONDS.toNanos(quick ? 60 : 180));
            double seconds = (System.nanoTime() - t0) / 1e9;
            report.note(API, String.format(Locale.ROOT, "%d batches stored first (`NumberedLines %d` through the stand-in "
                    + "spark-submit: each a real launch, a %d-line log on disk, state `success`): %.0f s, %.0f batches/s.",
                    stored, LOG_LINES, LOG_LINES, seconds, stored / seconds));
            if (phases.contains("api")) {
                run(API, () -> api(stored));
            }
            if (phases.contains("burst")) {
                run(BURST, this::burst);
            }
            if (phases.contains("scale")) {
                run(SCALE, () -> scale(emptyStartupMillis, port, data, config, log));
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.close();
        }
    }

    private void run(String section, Bench.Phase phase) {
        report.section(section);
        System.out.println("[bench] === " + section);
        try {
            phase.run();
        } catch (Exception | AssertionError e) {
            e.printStackTrace(System.out);
            report.error(section, "phase failed: " + e);
        }
    }

    /**
     * The application file of every stand-in batch: the stand-in spark-submit ignores it, but the server
     * checks it as it checks any (an existing file inside {@code sparkgate.submit.local-dirs}).
     */
    private String appFile() {
        return settings.examplesJar().toString();
    }

    private CreateBatchRequest numberedLines() {
        return CreateBatchRequest.newBuilder().setFile(appFile()).setClassName(NUMBERED_LINES)
                .addArgs(Integer.toString(LOG_LINES)).build();
    }

    /** Creates batches until {@code target} are stored (8 at a time, retrying 429s), then waits until all are final. */
    private int populate(int target, long budgetNanos) throws Exception {
        long deadline = System.nanoTime() + budgetNanos;
        int have = stub.listBatches(ListBatchesRequest.newBuilder().setSize(0).build()).getTotal();
        AtomicInteger toCreate = new AtomicInteger(target - have);
        List<Integer> ids = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 0; t < 8; t++) {
            pool.execute(() -> {
                while (toCreate.getAndDecrement() > 0 && System.nanoTime() < deadline && failure.get() == null) {
                    while (true) {
                        try {
                            ids.add(stub.createBatch(numberedLines()).getId());
                            break;
                        } catch (StatusRuntimeException e) {
                            if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
                                failure.compareAndSet(null, e);
                                return;
                            }
                            sleep(50);
                        }
                    }
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(budgetNanos + TimeUnit.SECONDS.toNanos(30), TimeUnit.NANOSECONDS);
        if (failure.get() != null) {
            throw new IllegalStateException("create failed", failure.get());
        }
        List<Integer> sorted = new ArrayList<>(ids);
        java.util.Collections.sort(sorted);
        // Wait until every new batch is final: they finish roughly in id order.
        int i = 0;
        long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (i < sorted.size()) {
            BatchState s = stub.getBatchState(GetBatchStateRequest.newBuilder().setId(sorted.get(i)).build()).getState();
            if (s == BatchState.BATCH_STATE_SUCCESS) {
                i++;
            } else if (s == BatchState.BATCH_STATE_DEAD || s == BatchState.BATCH_STATE_KILLED) {
                throw new IllegalStateException("batch " + sorted.get(i) + " ended " + s);
            } else if (System.nanoTime() > waitUntil) {
                throw new IllegalStateException("batch " + sorted.get(i) + " still " + s + " 120 s after the creates");
            } else {
                sleep(100);
            }
        }
        int total = stub.listBatches(ListBatchesRequest.newBuilder().setSize(0).build()).getTotal();
        System.out.printf("[bench] %d batches stored%n", total);
        return total;
    }

    /** Resident memory of the server, out of the box ({@code ./sparkgate server}), idle after 100 batches finished. */
    private void idleMemory() throws Exception {
        populate(100, TimeUnit.SECONDS.toNanos(60));
        // A few list pages and polls first, as a dashboard would, then idle.
        for (int i = 0; i < 50; i++) {
            get(server.baseUrl() + "/batches?size=100");
            get(server.baseUrl() + "/batches/" + i + "/state");
        }
        Thread.sleep(5000);
        long rss = server.residentBytes();
        report.row(MEMORY, new Report.Row("server RSS, idle after 100 finished batches (`./sparkgate server` defaults)",
                String.format(Locale.ROOT, "%,.0f MB", rss / 1e6), "", "", "≤ 250 MB", rss <= 250_000_000L));
        report.note(MEMORY, "RSS = VmRSS of the server process (/proc/PID/status) 5 s after the last request; JVM options are "
                + "the defaults of `./sparkgate` (" + String.join(" ", ServerProcess.defaultJavaOptions(settings.repo()))
                + "), overridable with SPARKGATE_JAVA_OPTS. This is the server's first start in this run, class-data archive "
                + (emptyStartWithArchive ? "present" : "absent (the build rewrote the jar, as a first start after a build)")
                + "; a server started from the archive maps its classes from that file instead of loading them (measured by "
                + "hand with the same load: 221-228 MB in 3 runs with the archive, 229-263 MB in 5 without).");
    }

    private void api(int stored) throws Exception {
        int id = stored / 2;
        Path payloads = Files.createDirectories(settings.work().resolve("baseline-payloads"));
        String stateUrl = "/batches/" + id + "/state";
        String batchUrl = "/batches/" + id;
        String listUrl = "/batches?size=100";
        byte[] stateJson = get(server.baseUrl() + stateUrl);
        byte[] batchJson = get(server.baseUrl() + batchUrl);
        byte[] listJson = get(server.baseUrl() + listUrl);
        GetBatchStateResponse state = stub.getBatchState(GetBatchStateRequest.newBuilder().setId(id).build());
        ListBatchesResponse list = stub.listBatches(ListBatchesRequest.newBuilder().setSize(100).build());
        Files.write(payloads.resolve("state.json"), stateJson);
        Files.write(payloads.resolve("list.json"), listJson);
        Files.write(payloads.resolve("batch.json"), batchJson);
        Files.write(payloads.resolve("state.pb"), state.toByteArray());
        Files.write(payloads.resolve("list.pb"), list.toByteArray());
        if (list.getSessionsCount() != 100) {
            throw new IllegalStateException("expected 100 sessions in the list, got " + list.getSessionsCount());
        }
        int basePort = ServerProcess.freePort();
        try (ServerProcess baseline = ServerProcess.startBaseline(settings.repo(), basePort, payloads,
                settings.work().resolve("server-baseline.log"))) {
            byte[] baseList = get(baseline.baseUrl() + listUrl);
            if (baseList.length != listJson.length) {
                throw new IllegalStateException("baseline payload differs in size");
            }
            // The whole REST path warm on both servers before the first figure: warmed on its own route only,
            // the first figure measured a server still compiling what every route shares (seen: its windows
            // rising 5,136 → 10,766 req/s after a 24 s warm-up that never settled).
            List<Load.Target> everyRoute = List.of(
                    Load.rest(server.baseUrl() + stateUrl, CONNECTIONS), Load.rest(baseline.baseUrl() + stateUrl, CONNECTIONS),
                    Load.rest(server.baseUrl() + batchUrl, CONNECTIONS), Load.rest(baseline.baseUrl() + batchUrl, CONNECTIONS),
                    Load.rest(server.baseUrl() + listUrl, CONNECTIONS), Load.rest(baseline.baseUrl() + listUrl, CONNECTIONS));
            for (int round = 0; round < (settings.quick() ? 1 : SHARED_WARM_ROUNDS); round++) {
                for (Load.Target t : everyRoute) {
                    t.measure(Load.WARM_WINDOW_SECONDS);
                }
            }
            compare("REST `GET " + stateUrl + "` (" + stateJson.length + " B body)", 0.8, 1.5,
                    Load.rest(server.baseUrl() + stateUrl, CONNECTIONS), Load.rest(baseline.baseUrl() + stateUrl, CONNECTIONS));
            compare("REST `GET " + batchUrl + "` (" + batchJson.length + " B body)", 0.8, 1.5,
                    Load.rest(server.baseUrl() + batchUrl, CONNECTIONS), Load.rest(baseline.baseUrl() + batchUrl, CONNECTIONS));
            compare("REST `GET " + listUrl + "` (" + listJson.length + " B body)", 0.7, 2.0,
                    Load.rest(server.baseUrl() + listUrl, CONNECTIONS), Load.rest(baseline.baseUrl() + listUrl, CONNECTIONS));
            GetBatchStateRequest stateReq = GetBatchStateRequest.newBuilder().setId(id).build();
            Load.Call stateCall = (s, ok, failed) -> s.getBatchState(stateReq, Load.observer(ok, failed));
            compare("gRPC `GetBatchState` (" + state.getSerializedSize() + " B message)", 0.8, 1.5,
                    Load.grpc(server.port(), CONNECTIONS, stateCall), Load.grpc(baseline.port(), CONNECTIONS, stateCall));
            ListBatchesRequest listReq = ListBatchesRequest.newBuilder().setSize(100).build();
            Load.Call listCall = (s, ok, failed) -> s.listBatches(listReq, Load.observer(ok, failed));
            compare("gRPC `ListBatches` size 100 (" + list.getSerializedSize() + " B message)", 0.7, 2.0,
                    Load.grpc(server.port(), CONNECTIONS, listCall), Load.grpc(baseline.port(), CONNECTIONS, listCall));
        }
        report.note(API, "Load: " + CONNECTIONS + " concurrent connections, closed loop; REST with `wrk -t1 -c32 --latency`, "
                + "gRPC with the bench's driver (32 channels, one call in flight each, async stubs). First " + SHARED_WARM_ROUNDS
                + " rounds of one " + Load.WARM_WINDOW_SECONDS + " s window on every REST route of both servers (discarded), "
                + "so the first figure does not pay for the JIT of what all routes share; then each server is warmed up "
                + "on each figure in " + Load.WARM_WINDOW_SECONDS + " s windows until three in a row are within 10% of "
                + "each other (JIT; at most " + WARM_MAX_SECONDS + " s, discarded); then the real server and the baseline are "
                + "measured in turn, " + ROUNDS + " windows of " + WINDOW_SECONDS + " s each, and each figure (req/s, p50, p99) "
                + "is the median of its server's windows. The two are never loaded together; the load generator shares the "
                + "2 cores with the server.");
        report.note(API, "Baseline: `io.sparkgate.bench.BaselineServer`, a bare Armeria server in its own JVM started the same "
                + "way as the real one, answering the same paths/RPCs with the byte-identical payloads captured from the real "
                + "server a moment before (REST from a plain HTTP service, gRPC from the same BatchService through a GrpcService "
                + "with the real one's settings; both on the blocking task executor, as the real service is). Chosen over an "
                + "opt-in route inside the server: no production code change, no shared caches or threads.");
    }

    /** Measured windows per server and figure, alternating between the two: each figure is their median. */
    private static final int ROUNDS = 3;
    /** Rounds of one window on every REST route of both servers before the first figure. */
    private static final int SHARED_WARM_ROUNDS = 3;
    /** Seconds of one measured window. */
    private static final int WINDOW_SECONDS = 5;
    /** Longest warm-up of one server on one figure. */
    private static final int WARM_MAX_SECONDS = 18;

    /**
     * One figure against the baseline: met when req/s ≥ {@code minRatio}× and p99 ≤ {@code maxP99Ratio}× the
     * baseline's. Both are warmed up first; then the real server and the baseline are measured in turn,
     * {@value #ROUNDS} windows each, so a neighbour's burst of load on the shared machine falls on both
     * alike rather than on one side of the ratio.
     */
    private void compare(String figure, double minRatio, double maxP99Ratio, Load.Target real, Load.Target baseline)
            throws Exception {
        boolean quick = settings.quick();
        int warm = quick ? 3 : WARM_MAX_SECONDS;
        int secs = quick ? 2 : WINDOW_SECONDS;
        String realWarm = real.warm(warm);
        String baseWarm = baseline.warm(warm);
        List<Load.Result> realWindows = new ArrayList<>();
        List<Load.Result> baseWindows = new ArrayList<>();
        for (int i = 0; i < ROUNDS; i++) {
            realWindows.add(real.measure(secs));
            baseWindows.add(baseline.measure(secs));
        }
        Load.Result r = Load.median(realWindows);
        Load.Result b = Load.median(baseWindows);
        System.out.printf("[bench] %s: real %s (%s), baseline %s (%s)%n", figure, r.text(), r.detail(), b.text(), b.detail());
        if (r.errors() > 0 || b.errors() > 0) {
            throw new IllegalStateException(figure + ": errors under load: real " + r.errors() + " " + realWindows
                                            + ", baseline " + b.errors() + " " + baseWindows);
        }
        double ratio = r.requestsPerSecond() / b.requestsPerSecond();
        double p99Ratio = (double) r.p99Micros() / b.p99Micros();
        report.row(API, new Report.Row(figure, r.text(), b.text(), Bench.ratio(ratio) + "; p99 " + Bench.ratio(p99Ratio) + "×",
                String.format(Locale.ROOT, "≥ %.2f of baseline req/s, p99 ≤ %.1f× its", minRatio, maxP99Ratio),
                ratio >= minRatio && p99Ratio <= maxP99Ratio));
        report.note(API, figure + ": real " + r.detail() + ", warm-up " + realWarm + "; baseline " + b.detail()
                         + ", warm-up " + baseWarm + ".");
    }

    private byte[] get(String url) throws IOException, InterruptedException {
        HttpResponse<byte[]> res = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (res.statusCode() != 200) {
            throw new IllegalStateException("GET " + url + " answered " + res.statusCode());
        }
        return res.body();
    }

    /** Most warm-up bursts before a measured one, and fewest. */
    private static final int MAX_WARM_UP_BURSTS = 6;
    private static final int MIN_WARM_UP_BURSTS = 2;

    /**
     * Bursts of the same creates, each answered, then deleted and its apps gone, until the create path is
     * warm: the batches stored first came over gRPC, so the first REST bursts run the server's transcoding
     * and JSON (and the bench's own HTTP client) interpreted, and 200 creates are too few to get them
     * compiled (by hand, bursts of 200 on one server: p99 1.5, 1.2, 1.2, 1.2, 0.75, 0.52 s). So, as the
     * issue asks of every figure, warm until stable: until a burst's p99 is no more than 10% below the one
     * before (at least {@value #MIN_WARM_UP_BURSTS}, at most {@value #MAX_WARM_UP_BURSTS}).
     *
     * @return the warm-up bursts' p99s, in µs
     */
    private List<Long> warmUpBursts(int n, String body) throws Exception {
        return untilStable(() -> warmUpBurst(n, body));
    }

    /** One burst, returning its p99 in µs. */
    private interface BurstRun {
        long p99() throws Exception;
    }

    /** The warm-up rule of the server's and the baseline's bursts ({@link #warmUpBursts}); returns the p99s. */
    private static List<Long> untilStable(BurstRun burst) throws Exception {
        List<Long> p99s = new ArrayList<>();
        while (p99s.size() < MAX_WARM_UP_BURSTS) {
            p99s.add(burst.p99());
            int k = p99s.size();
            if (k >= MIN_WARM_UP_BURSTS && p99s.get(k - 1) >= 0.9 * p99s.get(k - 2)) {
                break;
            }
        }
        return p99s;
    }

    /** One warm-up burst, answered, deleted and its apps gone; returns its p99 in µs. */
    private long warmUpBurst(int n, String body) throws Exception {
        Samples latency = new Samples();
        List<CompletableFuture<HttpResponse<String>>> calls = creates(server.baseUrl(), body, n, latency);
        List<CompletableFuture<HttpResponse<String>>> deletes = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.get(60, TimeUnit.SECONDS);
            if (r.statusCode() == 201) {
                String id = r.body().replaceAll("^\\{\"id\":(\\d+).*", "$1").trim();
                deletes.add(http.sendAsync(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches/" + id)).DELETE().build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
        }
        for (CompletableFuture<HttpResponse<String>> d : deletes) {
            d.get(60, TimeUnit.SECONDS);
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!stubApps(SLEEPING_APP).isEmpty() && System.nanoTime() < until) {
            sleep(250);
        }
        Thread.sleep(1000); // the deletes' own work (kills, log removal) done before the measured burst
        return latency.percentile(0.99);
    }

    /**
     * The most of these batches that were {@code starting} at the same time, from the times in their
     * state histories ({@code starting} until the next state entered). Not from sampled list pages: a page
     * of 250 live batches is not one snapshot (each batch is read as it is when its turn comes), so a batch
     * read as {@code starting} just before it ran and one read just after it took the freed place were
     * seen together (3 with a limit of 2, once). A state's time is recorded after the place is taken and
     * before it is freed, so these intervals lie within the launch queue's own; at equal times the end
     * counts first.
     */
    private int mostStartingAtOnce(List<Integer> ids) {
        List<long[]> events = new ArrayList<>(); // {time in µs, +1 start / -1 end}
        for (int id : ids) {
            List<StateChange> history = stub.getBatch(
                    GetBatchRequest.newBuilder().setId(id).build()).getStateHistoryList();
            for (int i = 0; i < history.size(); i++) {
                if (history.get(i).getState() != BatchState.BATCH_STATE_STARTING) {
                    continue;
                }
                events.add(new long[] {micros(history.get(i).getTime()), +1});
                events.add(new long[] {i + 1 < history.size() ? micros(history.get(i + 1).getTime()) : Long.MAX_VALUE, -1});
            }
        }
        events.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int now = 0;
        int most = 0;
        for (long[] e : events) {
            now += (int) e[1];
            most = Math.max(most, now);
        }
        return most;
    }

    private static long micros(Timestamp t) {
        return t.getSeconds() * 1_000_000L + t.getNanos() / 1000;
    }

    /**
     * {@code n} REST creates sent at once to {@code baseUrl}, each one's latency (from its send to its
     * whole answer, in µs) added to {@code latency} when it completes.
     */
    private List<CompletableFuture<HttpResponse<String>>> creates(String baseUrl, String body, int n, Samples latency) {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create(baseUrl + "/batches"))
                            .timeout(java.time.Duration.ofSeconds(30))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString()).whenComplete((r, e) -> latency.add((System.nanoTime() - start) / 1000)));
        }
        return calls;
    }

    /** The baseline's measured burst, and the p99s (µs) of the warm-up bursts before it. */
    private record Baseline(Samples latency, List<Long> warmUps) {}

    private Samples baselineRound(ServerProcess baseline, int n, String body) throws Exception {
        Samples latency = new Samples();
        for (CompletableFuture<HttpResponse<String>> c : creates(baseline.baseUrl(), body, n, latency)) {
            HttpResponse<String> r = c.get(60, TimeUnit.SECONDS);
            if (r.statusCode() != 201) {
                throw new IllegalStateException("baseline burst answered " + r.statusCode());
            }
        }
        Thread.sleep(1000);
        return latency;
    }

    /** The burst's baseline: {@code n} POSTs at once to a bare route answering {@code createdJson}. */
    private Baseline baselineBurst(int n, String body, String createdJson) throws Exception {
        Path payloads = Files.createDirectories(settings.work().resolve("burst-baseline-payloads"));
        Files.writeString(payloads.resolve("created.json"), createdJson);
        try (ServerProcess baseline = ServerProcess.startBaseline(settings.repo(), ServerProcess.freePort(), payloads,
                settings.work().resolve("server-burst-baseline.log"))) {
            // Warmed by the same rule as the server, then measured once.
            List<Long> warmUps = settings.quick() ? List.of()
                    : untilStable(() -> baselineRound(baseline, n, body).percentile(0.99));
            return new Baseline(baselineRound(baseline, n, body), warmUps);
        }
    }

    private void burst() throws Exception {
        int n = 200;
        String body = "{\"file\":\"" + appFile() + "\",\"className\":\"" + SLEEPING_APP + "\",\"args\":[\"120\"]}";
        List<Long> warmUps = settings.quick() ? List.of() : warmUpBursts(n, body);
        int before = stub.listBatches(ListBatchesRequest.newBuilder().setSize(0).build()).getTotal();
        // Sampler: how many of the new batches are starting / waiting / running, and how many stand-in apps live.
        int[] maxNotStarted = {0};
        int[] maxProcesses = {0};
        java.util.concurrent.atomic.AtomicBoolean sampling = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                try {
                    ListBatchesResponse page = stub.listBatches(ListBatchesRequest.newBuilder().setFrom(before).setSize(n + 50).build());
                    int notStarted = 0;
                    for (Batch b : page.getSessionsList()) {
                        if (b.getState() == BatchState.BATCH_STATE_NOT_STARTED) {
                            notStarted++;
                        }
                    }
                    maxNotStarted[0] = Math.max(maxNotStarted[0], notStarted);
                    maxProcesses[0] = Math.max(maxProcesses[0], stubApps(SLEEPING_APP).size());
                } catch (RuntimeException e) {
                    // keep sampling
                }
                sleep(100);
            }
        }, "burst-sampler");
        sampler.setDaemon(true);
        sampler.start();

        Samples latency = new Samples();
        long t0 = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> calls = creates(server.baseUrl(), body, n, latency);
        List<Integer> ids = new ArrayList<>();
        int answered = 0;
        int created = 0;
        int refused = 0;
        List<String> failures = new ArrayList<>();
        String createdJson = null;
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            try {
                HttpResponse<String> r = c.get(60, TimeUnit.SECONDS);
                answered++;
                if (r.statusCode() == 201) {
                    created++;
                    if (createdJson == null) {
                        createdJson = r.body();
                    }
                    ids.add(Integer.parseInt(r.body().replaceAll("^\\{\"id\":(\\d+).*", "$1").trim()));
                } else if (r.statusCode() == 429) {
                    refused++;
                } else {
                    failures.add(r.statusCode() + " " + r.body());
                }
            } catch (Exception e) {
                failures.add(e.toString());
            }
        }
        long allAnsweredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        // None stuck: every created batch reaches running.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        List<Integer> notRunning = new ArrayList<>(ids);
        while (!notRunning.isEmpty() && System.nanoTime() < deadline) {
            notRunning.removeIf(id -> {
                try {
                    return stub.getBatchState(GetBatchStateRequest.newBuilder().setId(id).build()).getState()
                           == BatchState.BATCH_STATE_RUNNING;
                } catch (StatusRuntimeException e) {
                    return false;
                }
            });
            if (!notRunning.isEmpty()) {
                sleep(200);
            }
        }
        long allRunningMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        sampling.set(false);
        sampler.join(5000);
        int maxStarting = mostStartingAtOnce(ids);
        int lost = 0;
        for (int id : ids) {
            try {
                stub.getBatchState(GetBatchStateRequest.newBuilder().setId(id).build());
            } catch (StatusRuntimeException e) {
                lost++;
            }
        }
        // Then all deleted, and no stand-in SleepingApp may survive.
        List<CompletableFuture<HttpResponse<String>>> deletes = new ArrayList<>();
        for (int id : ids) {
            deletes.add(http.sendAsync(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches/" + id)).DELETE().build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        int deleted = 0;
        List<String> deleteFailures = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> d : deletes) {
            try {
                HttpResponse<String> r = d.get(60, TimeUnit.SECONDS);
                if (r.statusCode() == 200) {
                    deleted++;
                } else {
                    deleteFailures.add(r.statusCode() + " " + r.body());
                }
            } catch (Exception e) {
                deleteFailures.add(e.toString());
            }
        }
        if (!deleteFailures.isEmpty()) {
            report.note(BURST, deleteFailures.size() + " deletes failed, e.g. " + deleteFailures.get(0));
        }
        List<ProcessHandle> left = stubApps(SLEEPING_APP);
        long waitLeft = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!left.isEmpty() && System.nanoTime() < waitLeft) {
            sleep(250);
            left = stubApps(SLEEPING_APP);
        }
        int leftCount = left.size();
        left.forEach(ProcessHandle::destroyForcibly); // ours (children of the server we started): do not leak them
        int totalAfter = stub.listBatches(ListBatchesRequest.newBuilder().setSize(0).build()).getTotal();
        Baseline baseline = createdJson == null ? new Baseline(new Samples(), List.of()) : baselineBurst(n, body, createdJson);
        Samples bare = baseline.latency();

        long p99 = latency.percentile(0.99);
        long bareP99 = bare.percentile(0.99);
        report.row(BURST, new Report.Row("create latency (REST `POST /batches`, 200 at once)",
                "p50 " + Samples.ms(latency.percentile(0.5)) + ", p99 " + Samples.ms(p99) + ", max " + Samples.ms(latency.max()),
                bareP99 <= 0 ? "" : "p50 " + Samples.ms(bare.percentile(0.5)) + ", p99 " + Samples.ms(bareP99) + ", max "
                        + Samples.ms(bare.max()) + " (bare Armeria route answering the captured 201, same burst)",
                bareP99 <= 0 ? "" : String.format(Locale.ROOT, "p99 %.1f×; %+d ms", (double) p99 / bareP99, (p99 - bareP99) / 1000),
                "p99 < 100 ms", p99 >= 0 && p99 < 100_000));
        report.row(BURST, new Report.Row("creates answered", answered + "/" + n + " (201: " + created + ", 429: " + refused
                + ", other: " + failures.size() + "), all answered in " + allAnsweredMs + " ms", "", "", "all answered, no other error",
                answered == n && failures.isEmpty()));
        report.row(BURST, new Report.Row("most batches `starting` at once (from their state histories)", Integer.toString(maxStarting),
                "", "", "≤ " + LAUNCH_THREADS + " (launch threads)", maxStarting <= LAUNCH_THREADS));
        report.row(BURST, new Report.Row("most batches waiting `not_started` at once", Integer.toString(maxNotStarted[0]),
                "", "", "", null));
        report.row(BURST, new Report.Row("lost / stuck (not `running` 90 s after the burst was answered)", lost + " / "
                + notRunning.size() + (notRunning.isEmpty() ? " (all running " + allRunningMs + " ms after the first create)"
                : " (still not running after " + allRunningMs + " ms)"), "", "", "0 / 0", lost == 0 && notRunning.isEmpty()));
        report.row(BURST, new Report.Row("deleted; stand-in apps alive 20 s after the deletes", deleted + "/" + created + "; "
                + leftCount + " alive", "", "", "all deleted, 0 alive", deleted == created && leftCount == 0));
        report.row(BURST, new Report.Row("most stand-in SleepingApp processes alive at once", Integer.toString(maxProcesses[0]),
                "", "", "", null));
        report.note(BURST, "Server config: `sparkgate.launch.threads=" + LAUNCH_THREADS + "`, `sparkgate.launch.queue-size=250` (so "
                + "the whole burst may queue; with the default 100 the excess would get 429, which also counts as answered). "
                + "The app is the stand-in `SleepingApp 120` (a bash loop, no JVM): 200 real SleepingApps would be 200 Spark "
                + "driver JVMs alive at once, since the launch limit bounds launches in progress, not running applications.");
        report.note(BURST, "Create latency is per request from `sendAsync` to the full response, over 200 fresh HTTP/1.1 "
                + "connections (java.net.http), connection set-up included; measured after warm-up bursts of the same 200 "
                + "creates (each answered, deleted, its apps gone; not in BENCH_QUICK) until a burst's p99 was no more than 10% "
                + "below the one before (" + MIN_WARM_UP_BURSTS + " to " + MAX_WARM_UP_BURSTS + "), since the batches stored "
                + "first came over gRPC and 200 creates are too few to get the REST create path compiled: warm-up p99s "
                + millis(warmUps) + " (server), " + millis(baseline.warmUps()) + " (baseline). Batches listed after the deletes: "
                + totalAfter + " (" + before + " before the burst).");
        report.note(BURST, "Baseline: the same 200 POSTs (same client, fresh connections, warm-up bursts first by the same rule, not in "
                + "BENCH_QUICK) to `io.sparkgate.bench.BaselineServer`, a bare Armeria server in its own JVM that reads each body "
                + "and answers the 201 body captured from the real burst, from its blocking task executor; run after the real "
                + "burst's apps are gone, on the same 2 cores. What it takes is the client's and the connections' share (200 "
                + "TCP and HTTP set-ups on both sides of one machine) and Armeria's; the difference is the server's own work "
                + "for a create (JSON, validation, the store's group commit, the launch queue) and for the launches that "
                + "start meanwhile.");
        if (!failures.isEmpty()) {
            throw new IllegalStateException("burst: " + failures.size() + " creates failed, e.g. " + failures.get(0));
        }
    }

    /** Live stand-in spark-submit processes running {@code appClass}. */
    private List<ProcessHandle> stubApps(String appClass) {
        String marker = settings.stubSparkHome().resolve("bin/spark-submit").toString();
        List<ProcessHandle> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            try {
                String cmdline = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).replace('\0', ' ');
                if (cmdline.contains(marker) && cmdline.contains(appClass)) {
                    found.add(p);
                }
            } catch (IOException | RuntimeException e) {
                // gone, or not ours to read
            }
        });
        return found;
    }

    /** Batches the scale phase ends with, as the issue asks. */
    private static final int SCALE_TARGET = 100_000;

    /**
     * Heap per batch and list pages over a long history, and start-up with it. First more batches through
     * the API (real launches of the stand-in, each with its log on disk), for the heap's slope; then, with
     * the server stopped, copies of one of them written into its store ({@link StoreSeeder}) up to
     * {@value #SCALE_TARGET}, since real launches make only ~30 a second here; then the server started again
     * on that store: the start-up figure, the list anywhere in it, and the live heap with it.
     */
    private void scale(long emptyStartupMillis, int port, Path data, Path config, Path log) throws Exception {
        boolean quick = settings.quick();
        int target = quick ? 5_000 : SCALE_TARGET;
        long heap1 = server.liveHeapBytes();
        int n1 = stub.listBatches(ListBatchesRequest.newBuilder().setSize(0).build()).getTotal();
        long t0 = System.nanoTime();
        // Bounded: the seeding, the restart and the measurements after it need what is left of the run.
        long budget = Math.min(TimeUnit.SECONDS.toNanos(quick ? 20 : 60), settings.remainingNanos() - TimeUnit.SECONDS.toNanos(200));
        int n2 = populate(n1 + (quick ? 300 : 2_000), Math.max(TimeUnit.SECONDS.toNanos(10), budget));
        double secs = (System.nanoTime() - t0) / 1e9;
        long heap2 = server.liveHeapBytes();
        double perBatch = n2 > n1 ? (double) (heap2 - heap1) / (n2 - n1) : Double.NaN;
        report.note(SCALE, String.format(Locale.ROOT, "Through the API first: %,d batches added in %.0f s (%,d → %,d), "
                + "live heap %,.1f MB → %,.1f MB: %,.0f B per added batch (slope; it includes the batch layer's caches "
                + "of recent batches filling up, which are bounded).", n2 - n1, secs, n1, n2, heap1 / 1e6, heap2 / 1e6, perBatch));
        int template = n2 - 1; // a NumberedLines batch made through the API just now, finished

        server.close();
        Path serverJar = settings.repo().resolve("server/target/sparkgate-server.jar");
        Path benchClasses = settings.repo().resolve("bench/target/classes");
        Process seeder = new ProcessBuilder(ServerProcess.javaBin(), "-cp", benchClasses + java.io.File.pathSeparator + serverJar,
                StoreSeeder.class.getName(), data.toString(), Integer.toString(template), Integer.toString(target))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long s0 = System.nanoTime();
        if (!seeder.waitFor(Math.max(30, TimeUnit.NANOSECONDS.toSeconds(settings.remainingNanos()) - 90), TimeUnit.SECONDS)
            || seeder.exitValue() != 0) {
            seeder.destroyForcibly();
            throw new IllegalStateException("seeding the store failed or took too long; see " + log);
        }
        double seedSecs = (System.nanoTime() - s0) / 1e9;

        // Start-up with that history on disk: the same data dir, the same config.
        // The archive the first start wrote at its exit is taken by this start (see jvm-defaults.sh).
        boolean withArchive = classArchiveUsable() || hasArchiveDump();
        server = ServerProcess.startSparkgate("stub-restart", settings.repo(), port, data, config, log);
        long startup = TimeUnit.NANOSECONDS.toMillis(server.startupNanos());
        int n3 = stub.listBatches(ListBatchesRequest.newBuilder().setSize(0).build()).getTotal();
        report.row(SCALE, new Report.Row("batches stored", String.format(Locale.ROOT, "%,d (%,d through the API, each a real "
                + "launch with a %,d-line log; %,d copies of one of them written into the store in %.0f s)", n3, n2, LOG_LINES,
                n3 - n2, seedSecs), "", "", String.format(Locale.ROOT, "%,d", target), n3 >= target));
        report.row(SCALE, new Report.Row("server start-up with that history (process start → first 200 from `GET /batches`)",
                String.format(Locale.ROOT, "%d ms (batches listed after the restart: %,d)", startup, n3),
                emptyStartupMillis + " ms (empty data dir, same run)",
                Bench.ratio((double) startup / emptyStartupMillis), "< 3 s", startup < 3000));
        // A page deep in the list, once, first thing after the restart: what a client paging to the end pays.
        long d0 = System.nanoTime();
        HttpResponse<String> deep = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches?from="
                + (n3 - 100) + "&size=100")).build(), HttpResponse.BodyHandlers.ofString());
        long deepMicros = (System.nanoTime() - d0) / 1000;
        if (deep.statusCode() != 200) {
            throw new IllegalStateException("deep page: " + deep.statusCode() + " " + deep.body());
        }
        report.row(SCALE, new Report.Row(String.format(Locale.ROOT, "`GET /batches?from=%d&size=100` of %,d, once, first deep "
                + "page after the restart", n3 - 100, n3), String.format(Locale.ROOT, "%.1f ms", deepMicros / 1000.0), "", "",
                "< 20 ms", deepMicros < 20_000));
        // The list anywhere in it: every request another page (`from` drawn anew each time over the whole list), so
        // neither the database's result cache nor one hot page answers, one client in a loop. Warmed until its
        // throughput is stable (JIT), as every figure; each wrk run (warm-up window or the measured one) seeds its
        // draws by the clock, so the measured run does not replay the pages the warm-up read.
        Path anywhere = settings.work().resolve("pages-anywhere.lua");
        Files.writeString(anywhere, String.join("\n",
                "-- bench: each request a page at a position drawn uniformly over the whole list",
                "math.randomseed(os.time())",
                "request = function()",
                "  return wrk.format(\"GET\", \"/batches?from=\" .. math.random(0, " + (n3 - 100) + ") .. \"&size=100\")",
                "end", ""));
        Load.Result pages = Load.wrk(server.baseUrl() + "/batches", anywhere, 1, quick ? 6 : 30, quick ? 3 : 5);
        if (pages.errors() > 0) {
            throw new IllegalStateException("errors on pages anywhere: " + pages.detail());
        }
        report.row(SCALE, new Report.Row(String.format(Locale.ROOT, "`GET /batches?from=<random 0..%,d>&size=100` of %,d, one "
                + "client in a loop", n3 - 100, n3), pages.text(), "", "", "p99 < 20 ms", pages.p99Micros() < 20_000));
        report.note(SCALE, "Pages anywhere: " + pages.detail() + ".");
        long heap3 = server.liveHeapBytes();
        double upperBound = (double) heap3 / n3; // all of the live heap charged to the batches
        report.row(SCALE, new Report.Row("server heap after GC per stored batch", String.format(Locale.ROOT,
                "≤ %,.0f B (whole live heap ÷ batches)", upperBound),
                String.format(Locale.ROOT, "live heap %,.1f MB with %,d batches stored, after the list pages above", heap3 / 1e6, n3),
                "", "< 2 KB (2,048 B)", upperBound < 2048));
        report.note(SCALE, "Class-data archive (`./sparkgate server` loads the server's classes from the archive an earlier "
                + "start wrote at its exit, see dist/src/main/bin/jvm-defaults.sh): " + (emptyStartWithArchive ? "present" : "absent")
                + " at the first start (empty data dir), " + (withArchive ? "present" : "absent") + " at the restart (an archive "
                + "counts when newer than the server's jar).");
        report.note(SCALE, "Live heap = the total of `jcmd PID GC.class_histogram` (which runs a full GC first); logs are on "
                + "disk and not counted. The whole live heap (Armeria, gRPC, H2's page cache, the caches of recent batches and "
                + "messages) divided by the batches stored bounds the heap per batch from above.");
        report.note(SCALE, "The copies are written by `io.sparkgate.bench.StoreSeeder` with the server stopped: rows and state "
                + "histories copied in SQL from batch " + template + " (made through the API), differing only in id. They have no "
                + "log file on disk (their `/log` is empty); what a list page, a batch and its state show comes from the store, as "
                + "for any finished batch.");
    }

    /** Whether {@code ./sparkgate server} will start from a class-data archive: one newer than the server's jar. */
    private boolean classArchiveUsable() throws IOException {
        Path archive = settings.repo().resolve("server/target/sparkgate-server.jsa");
        Path jar = settings.repo().resolve("server/target/sparkgate-server.jar");
        return Files.exists(archive) && Files.getLastModifiedTime(archive).compareTo(Files.getLastModifiedTime(jar)) > 0;
    }

    /** A class-data archive written by an earlier server's exit, not yet taken as the archive. */
    private boolean hasArchiveDump() throws IOException {
        Path jar = settings.repo().resolve("server/target/sparkgate-server.jar");
        try (var files = Files.list(jar.getParent())) {
            return files.anyMatch(f -> f.getFileName().toString().matches("sparkgate-server\\.jsa\\.\\d+"));
        }
    }

    private static String millis(List<Long> micros) {
        return micros.stream().map(Samples::ms).collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
