package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.server.store.JdbcBatchStore;
import io.sparkgate.server.store.TestPostgres;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.time.Instant;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers (replicas) in processes of their own on one real PostgreSQL, in local mode: a user may
 * send any call to either. One pair serves every story here, the pause last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration APP_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration LEASE_TTL = Duration.ofSeconds(3);
    private static final List<String> FINAL = List.of("success", "dead", "killed");

    @TempDir
    static Path tmp;

    private static String database;
    private static ServerProcess a;
    private static ServerProcess b;
    private static final List<Long> drivers = new ArrayList<>();

    @BeforeAll
    static void twoReplicasOnOneDatabase() {
        database = TestPostgres.newDatabase();
        CompletableFuture<ServerProcess> second = CompletableFuture.supplyAsync(() -> start(database, "b"));
        a = start(database, "a");
        b = second.join();
    }

    static ServerProcess start(String database, String name) {
        List<String> conf = new ArrayList<>(ServerProcess.testConf());
        conf.addAll(List.of(
                ConfigKeys.STORE_URL.name() + " = " + database,
                ConfigKeys.STORE_USER.name() + " = " + TestPostgres.USER,
                ConfigKeys.STORE_PASSWORD.name() + " = " + TestPostgres.USER,
                ConfigKeys.REPLICA_LEASE_TTL.name() + " = " + LEASE_TTL.toMillis() + "ms",
                ConfigKeys.REPLICA_RENEW_INTERVAL.name() + " = 1s",
                ConfigKeys.REPLICA_SCAN_INTERVAL.name() + " = 300ms",
                ConfigKeys.DRAIN_GRACE.name() + " = 0s",
                // One batch at a time across both: the limit holds for the pair, not for each.
                ConfigKeys.MAX_RUNNING.name() + " = 1"));
        return ServerProcess.start(tmp.resolve(name), tmp, name, conf, Map.of());
    }

    @AfterAll
    static void stopBoth() throws Exception {
        for (ServerProcess server : new ServerProcess[] {a, b}) {
            if (server != null) {
                server.signal("CONT"); // in case a test stopped it
                server.close();
            }
        }
        ServerProcess.killTrees(drivers);
    }

    @Test
    @Order(1)
    void batchesCreatedOnEitherAreListedReadAndDeletedOnTheOther() throws Exception {
        int onA = create(a, numberedLines(5, 0));
        int onB = create(b, numberedLines(5, 0));

        for (ServerProcess server : List.of(a, b)) {
            List<Integer> listed = new ArrayList<>();
            server.getJson("/batches").get("sessions").forEach(s -> listed.add(s.get("id").asInt()));
            assertThat(listed).contains(onA, onB);
        }
        // Each one's state as the other replica reads it from the database, to its end.
        awaitFinal(b, onA);
        awaitFinal(a, onB);
        assertThat(state(b, onA)).isEqualTo("success");
        assertThat(state(a, onB)).isEqualTo("success");
        assertThat(b.getJson("/batches/" + onA)).isEqualTo(a.getJson("/batches/" + onA));

        // A batch running on one, deleted through the other: its replica kills its driver and removes it;
        // the other answers at once.
        int running = create(a, numberedLines(600, 100));
        Launched launched = launcherOf(running);
        ServerProcess other = launched.server() == a ? b : a;
        await().atMost(APP_TIMEOUT).until(() -> state(other, running).equals("running"));
        long driver = launched.pid();
        HttpResponse<String> deleted = other.call("DELETE", "/batches/" + running, null);
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        assertThat(JSON.readTree(deleted.body()).get("msg").asText()).isEqualTo("deleted");
        await("deleted on both").atMost(Duration.ofSeconds(30)).until(() ->
                a.call("GET", "/batches/" + running, null).statusCode() == 404
                && b.call("GET", "/batches/" + running, null).statusCode() == 404);
        await("its driver killed by its replica").atMost(Duration.ofSeconds(30))
                .until(() -> ProcessHandle.of(driver).map(p -> !p.isAlive()).orElse(true));

        // A final batch is removed by whichever replica is asked.
        assertThat(a.call("DELETE", "/batches/" + onB, null).statusCode()).isEqualTo(200);
        assertThat(b.call("GET", "/batches/" + onB, null).statusCode()).isEqualTo(404);
    }

    @Test
    @Order(2)
    void aBatchRecordedButNeverLaunchedIsLaunchedOnceByOneReplica() throws Exception {
        int id;
        // As a replica that died between recording a batch and launching it leaves it: starting, unheld.
        try (JdbcBatchStore store = JdbcBatchStore.open(database, TestPostgres.USER, TestPostgres.USER)) {
            id = store.insert(new Batch(-1, BatchRequest.of(TestServer.EXAMPLES_JAR.toString())
                    .withClassName("io.sparkgate.examples.NumberedLines").withArgs(List.of("3")), "", "", "", "",
                    List.of(new StateChange(BatchState.STARTING, Instant.now(), "submitted")), Instant.now()), "");
        }

        awaitFinal(a, id);
        assertThat(state(b, id)).isEqualTo("success");
        assertThat(List.of("a", "b")).filteredOn(name -> Files.exists(
                tmp.resolve(name).resolve("batches").resolve(Integer.toString(id)).resolve("pid")))
                .as("replicas that launched it").hasSize(1);
    }

    @Test
    @Order(3)
    void aFollowerOnTheOtherReplicaSeesEveryLineLiveUnderTheSameOffsets() throws Exception {
        int id = create(a, """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["60", "100", "0", "--timestamps"]}
                """.formatted(TestServer.EXAMPLES_JAR));
        AtomicReference<String> stateAtFirstLine = new AtomicReference<>();
        List<Long> lagMicros = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<SseClient.Stream> onB = CompletableFuture.supplyAsync(() -> {
            try {
                return SseClient.read(b.baseUrl() + "/batches/" + id + "/log/stream", Map.of(), event -> {
                    if (event.event().equals("message") && stateAtFirstLine.get() == null) {
                        stateAtFirstLine.set(state(a, id));
                    }
                    int t = event.data().indexOf(" t=");
                    if (event.event().equals("message") && event.data().startsWith("line ") && t > 0) {
                        java.time.Instant now = java.time.Instant.now();
                        lagMicros.add(now.getEpochSecond() * 1_000_000L + now.getNano() / 1000
                                - Long.parseLong(event.data().substring(t + 3)));
                    }
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        SseClient.Stream followed = onB.get(3, TimeUnit.MINUTES);
        assertThat(stateAtFirstLine.get()).as("the batch's state when B's follower got its first line")
                .isIn("starting", "running");
        List<String> log = fullLog(a, id);
        assertThat(log.stream().filter(l -> l.startsWith("line ")).map(l -> l.substring(0, l.indexOf(" t="))))
                .containsExactlyElementsOf(IntStream.range(0, 60).mapToObj(i -> "line " + i).toList());
        List<Long> lags = lagMicros.stream().sorted().toList();
        System.out.printf("ReplicasTest: a line written by a driver on A reached a follower on B after %d ms "
                + "(median of %d lines; max %d ms)%n", lags.get(lags.size() / 2) / 1000, lags.size(),
                lags.get(lags.size() - 1) / 1000);
        assertThat(followed.messages()).extracting(SseClient.Event::data).containsExactlyElementsOf(log);
        assertThat(followed.messages()).extracting(SseClient.Event::id)
                .containsExactlyElementsOf(IntStream.range(0, log.size()).mapToObj(Integer::toString).toList());
        assertThat(followed.events().get(followed.events().size() - 1).data()).contains("success");
        assertThat(fullLog(b, id)).isEqualTo(log);
        // A follower that saw line 20 on A goes on on B after it, with no gap and no repeat.
        SseClient.Stream resumed = SseClient.read(b.baseUrl() + "/batches/" + id + "/log/stream",
                Map.of("Last-Event-ID", "20"));
        assertThat(resumed.messages()).extracting(SseClient.Event::data).containsExactlyElementsOf(log.subList(21, log.size()));
    }

    @Test
    @Order(4)
    void anAdmissionLimitHoldsAcrossReplicas() throws Exception {
        int running = create(a, numberedLines(600, 100));
        await().atMost(APP_TIMEOUT).until(() -> state(b, running).equals("running"));

        HttpResponse<String> created = b.call("POST", "/batches", numberedLines(3, 0));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode waiting = JSON.readTree(created.body());
        int id = waiting.get("id").asInt();
        assertThat(waiting.get("state").asText()).isEqualTo("not_started");
        assertThat(lastReason(a.getJson("/batches/" + id))).contains("1 batch running (limit 1)");
        await("no replica starts it while the other's batch runs").during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(10)).until(() -> state(a, id).equals("not_started"));

        assertThat(a.call("DELETE", "/batches/" + running, null).statusCode()).isEqualTo(200);
        awaitFinal(b, id);
        assertThat(state(a, id)).isEqualTo("success");
    }

    @Test
    @Order(5)
    void aWatcherOfAllBatchesOnOneReplicaSeesTheChangesTheOtherMakes() throws Exception {
        // The web page's list and WatchBatches, on both replicas: open before the batch exists.
        try (AllBatches onA = AllBatches.watch(a); AllBatches onB = AllBatches.watch(b)) {
            Path stop = tmp.resolve("stop-watched");
            int id = create(a, """
                    {"file": "%s", "className": "io.sparkgate.examples.SleepingApp", "args": ["600", "%s"]}
                    """.formatted(TestServer.EXAMPLES_JAR, stop));
            ServerProcess owner = launcherOf(id).server();
            ServerProcess other = owner == a ? b : a;
            List<JsonNode> seen = owner == a ? onB.seen : onA.seen;
            await("the other replica's watcher sees the batch run").atMost(APP_TIMEOUT)
                    .until(() -> statesSeen(seen, id).contains("running"));
            Files.createFile(stop);
            await("the other replica's watcher sees it end").atMost(APP_TIMEOUT)
                    .until(() -> statesSeen(seen, id).contains("success"));
            assertThat(other.output()).as("changed by its replica, not by the watcher's")
                    .doesNotContain("batch " + id + ": running");
            List<String> states = statesSeen(seen, id);
            assertThat(states.subList(states.indexOf("running"), states.size()))
                    .as("in order").doesNotContain("starting", "not_started").endsWith("success");
            JsonNode last = seen.stream().filter(s -> s.get("id").asInt() == id).reduce((x, y) -> y).orElseThrow();
            assertThat(last.get("stateHistory")).as("its history as its replica has it")
                    .isEqualTo(owner.getJson("/batches/" + id).get("stateHistory"));
        }
    }

    /** A client of {@code GET /watch/batches}: every batch it was sent, as read by a thread of its own. */
    private static final class AllBatches implements AutoCloseable {
        final List<JsonNode> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final java.io.InputStream body;

        private AllBatches(java.io.InputStream body) {
            this.body = body;
            Thread reader = new Thread(() -> {
                try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(body,
                        java.nio.charset.StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        if (line.startsWith("data: ")) {
                            seen.add(JSON.readTree(line.substring(6)));
                        }
                    }
                } catch (java.io.IOException e) {
                    // closed by the test
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        /** Returns once the server answered: the watch is registered, later changes reach it. */
        static AllBatches watch(ServerProcess server) throws Exception {
            java.net.http.HttpResponse<java.io.InputStream> stream = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.baseUrl() + "/watch/batches")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofInputStream());
            assertThat(stream.statusCode()).isEqualTo(200);
            return new AllBatches(stream.body());
        }

        @Override
        public void close() throws java.io.IOException {
            body.close();
        }
    }

    @Test
    @Order(6)
    void createsOnBothReplicasAtOnceNeverRunMoreBatchesThanTheLimit() throws Exception {
        // Three creates on each replica at the same moment, with one batch running at a time the limit
        // for the pair: whichever replica takes each, their drivers run one after another.
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<CompletableFuture<Integer>> creates = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ServerProcess server = i % 2 == 0 ? a : b;
            creates.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                    return create(server, """
                            {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["15", "100", "0", "--timestamps"]}
                            """.formatted(TestServer.EXAMPLES_JAR));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        go.countDown();
        List<Integer> ids = creates.stream().map(CompletableFuture::join).toList();
        List<long[]> runs = new ArrayList<>();
        for (int id : ids) {
            awaitFinal(a, id);
            assertThat(state(b, id)).isEqualTo("success");
            List<Long> times = fullLog(a, id).stream().filter(l -> l.startsWith("line ") && l.contains(" t="))
                    .map(l -> Long.parseLong(l.substring(l.indexOf(" t=") + 3))).toList();
            assertThat(times).hasSize(15);
            runs.add(new long[] {times.get(0), times.get(times.size() - 1)});
        }
        runs.sort(java.util.Comparator.comparingLong(r -> r[0]));
        for (int i = 1; i < runs.size(); i++) {
            assertThat(runs.get(i)[0]).as("driver %d printed its first line after driver %d printed its last", i, i - 1)
                    .isGreaterThan(runs.get(i - 1)[1]);
        }
    }

    private static List<String> statesSeen(List<JsonNode> seen, int id) {
        return seen.stream().filter(s -> s.get("id").asInt() == id).map(s -> s.get("state").asText()).toList();
    }

    @Test
    @Order(8)
    void aFollowerOfAKilledReplicaResumesOnTheOtherWithTheRestOfTheLogExactly() throws Exception {
        int id = create(a, numberedLines(400, 50));
        Launched launched = launcherOf(id);
        ServerProcess owner = launched.server();
        ServerProcess other = owner == a ? b : a;
        await().atMost(APP_TIMEOUT).until(() -> state(owner, id).equals("running"));
        List<Integer> offsets = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        // The Java client given both servers, as a user gives it --server a,b: it follows on the batch's
        // replica first.
        try (io.sparkgate.client.SparkgateClient client = io.sparkgate.client.SparkgateClient
                .builder(owner.target() + "," + other.target()).build();
             io.sparkgate.client.LogFollow follow = client.followLog(id, 0)) {
            CompletableFuture<java.util.Optional<io.sparkgate.api.v1.BatchState>> followed = CompletableFuture.supplyAsync(() -> {
                follow.forEachRemaining(line -> {
                    offsets.add(line.getOffset());
                    lines.add(line.getText());
                });
                return follow.finalState();
            });
            await("the follower on the batch's replica has read into the driver's output").atMost(APP_TIMEOUT)
                    .until(() -> lines.stream().anyMatch(l -> l.startsWith("line 20")));

            owner.crash(); // SIGKILL while the driver writes: the follow breaks mid-log

            assertThat(followed.get(3, TimeUnit.MINUTES)).as("the follow ended on the other with the batch")
                    .contains(io.sparkgate.api.v1.BatchState.BATCH_STATE_DEAD);
        } finally {
            // Back for the stories after this one.
            if (owner == a) {
                a = start(database, "a");
            } else {
                b = start(database, "b");
            }
        }
        List<String> log = fullLog(other, id);
        assertThat(lastReason(other.getJson("/batches/" + id))).startsWith("replica lost");
        assertThat(lines).as("every line once, in order, as the survivor has them").containsExactlyElementsOf(log);
        assertThat(offsets).containsExactlyElementsOf(IntStream.range(0, log.size()).boxed().toList());
        assertThat(lines).filteredOn(l -> l.startsWith("line ")).hasSizeGreaterThan(20);
        assertThat(fullLog(owner == a ? a : b, id)).as("as the restarted replica has them").isEqualTo(log);
    }

    @Test
    @Order(9)
    void aReplicaPausedPastItsLeaseWritesNothingWhenItWakesAndLetsTheBatchGo() throws Exception {
        int created = create(a, numberedLines(80, 100));
        Launched launched = launcherOf(created);
        // A is the replica that launched it (the one it was created on, unless the other's scan was first).
        ServerProcess a = launched.server();
        ServerProcess b = a == ReplicasTest.a ? ReplicasTest.b : ReplicasTest.a;
        int id = created;
        await().atMost(APP_TIMEOUT).until(() -> state(a, id).equals("running"));
        long driver = launched.pid();

        a.signal("STOP"); // as in a long GC pause: its lease runs out
        try {
            // B claims the batch; its driver is a child of A's process, which B cannot follow.
            await("B ends it once A's lease ran out").atMost(LEASE_TTL.plusSeconds(30))
                    .until(() -> state(b, id).equals("dead"));
        } finally {
            a.signal("CONT");
        }
        JsonNode dead = b.getJson("/batches/" + id);
        assertThat(lastReason(dead)).startsWith("replica lost");

        // A wakes believing it holds the batch; the driver it follows ends with exit code 0, which A
        // would record as success: the write is fenced, and A lets the batch go.
        await("the driver ends").atMost(APP_TIMEOUT).until(() -> ProcessHandle.of(driver).map(p -> !p.isAlive()).orElse(true));
        await("A found its lease lost").atMost(Duration.ofSeconds(30))
                .until(() -> a.output().contains("batch " + id + ": lease lost to another replica"));
        for (ServerProcess server : List.of(a, b)) {
            JsonNode seen = server.getJson("/batches/" + id);
            assertThat(seen.get("state").asText()).isEqualTo("dead");
            assertThat(seen.get("stateHistory")).isEqualTo(dead.get("stateHistory"));
        }
    }

    private static String numberedLines(int lines, int delayMillis) {
        return """
                {"file": "%s", "className": "io.sparkgate.examples.NumberedLines", "args": ["%d", "%d"]}
                """.formatted(TestServer.EXAMPLES_JAR, lines, delayMillis);
    }

    private static int create(ServerProcess server, String body) throws Exception {
        HttpResponse<String> created = server.call("POST", "/batches", body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("id").asInt();
    }

    private static String state(ServerProcess server, int id) {
        return server.getJson("/batches/" + id + "/state").get("state").asText();
    }

    private static void awaitFinal(ServerProcess server, int id) {
        await().atMost(APP_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> FINAL.contains(state(server, id)));
    }

    private static String lastReason(JsonNode batch) {
        JsonNode history = batch.get("stateHistory");
        return history.get(history.size() - 1).get("reason").asText();
    }

    private static List<String> fullLog(ServerProcess server, int id) {
        List<String> lines = new ArrayList<>();
        server.getJson("/batches/" + id + "/log?from=0&size=-1").get("log").forEach(l -> lines.add(l.asText()));
        return lines;
    }

    /** The replica that launched a batch, and its driver's pid. */
    private record Launched(ServerProcess server, long pid) {}

    /**
     * Which replica launched a batch: the one it was created on, normally, but the other one's scan may
     * claim a new batch between its insert and its creator's claim (load spreads either way).
     */
    private static Launched launcherOf(int id) throws Exception {
        await().atMost(APP_TIMEOUT).until(() -> hasPid("a", id) || hasPid("b", id));
        String dir = hasPid("a", id) ? "a" : "b";
        return new Launched(dir.equals("a") ? a : b, driverPid(tmp.resolve(dir), id));
    }

    private static boolean hasPid(String dir, int id) throws java.io.IOException {
        Path pidFile = tmp.resolve(dir).resolve("batches").resolve(Integer.toString(id)).resolve("pid");
        return Files.exists(pidFile) && !Files.readString(pidFile).isBlank();
    }

    private static long driverPid(Path dataDir, int id) throws Exception {
        Path pidFile = dataDir.resolve("batches").resolve(Integer.toString(id)).resolve("pid");
        await().atMost(APP_TIMEOUT).until(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        drivers.add(pid);
        return pid;
    }
}
