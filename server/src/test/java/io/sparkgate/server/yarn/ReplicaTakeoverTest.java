package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.ServerProcess;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.server.store.TestPostgres;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.client.LogFollow;
import io.sparkgate.client.SparkgateClient;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas on one real PostgreSQL, their batches on a real MiniYARNCluster. The replica that
 * launched a batch is killed with SIGKILL while its application runs: the other takes the batch over
 * once the lease runs out, adopts the application by its tag and follows it to its end; YARN never
 * runs a second application for it.
 */
class ReplicaTakeoverTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration YARN_APP_TIMEOUT = Duration.ofMinutes(8);
    private static final Duration LEASE_TTL = Duration.ofSeconds(4);
    private static final Duration SCAN = Duration.ofMillis(500);

    @TempDir
    static Path tmp;

    private static MiniYarn yarn;
    private final List<ServerProcess> servers = new ArrayList<>();

    @BeforeAll
    static void startYarn() {
        yarn = MiniYarn.start(tmp.resolve("yarn"));
    }

    @AfterEach
    void stopServers() throws Exception {
        for (ServerProcess server : servers) {
            server.close();
        }
    }

    @AfterAll
    static void stopYarn() {
        if (yarn != null) {
            yarn.close();
        }
    }

    @Test
    void theSurvivorAdoptsAKilledReplicasRunningApplicationAndNeverSubmitsItAgain() throws Exception {
        String database = TestPostgres.newDatabase();
        CompletableFuture<ServerProcess> second =
                CompletableFuture.supplyAsync(() -> startServer(database, "b"));
        ServerProcess first = startServer(database, "a");
        ServerProcess other = second.join();
        Path stop = tmp.resolve("stop");
        HttpResponse<String> created = first.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.SleepingApp", "args": ["600", "%s"]}
                """.formatted(TestServer.EXAMPLES_JAR, stop));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        int id = JSON.readTree(created.body()).get("id").asInt();
        // Created on the first; launched there, or by the other if its scan claimed the batch first.
        await("launched").atMost(YARN_APP_TIMEOUT).until(() -> tracked(first) + tracked(other) == 1);
        ServerProcess a = tracked(first) == 1 ? first : other;
        ServerProcess b = a == first ? other : first;
        String aDir = a == first ? "a" : "b";
        await("running on YARN, as B reads it").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> state(b, id).equals("running") && !b.getJson("/batches/" + id).get("appId").isNull());
        String appId = b.getJson("/batches/" + id).get("appId").asText();
        await("driver lines in the log, as B reads it").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> fullLog(b, id).contains("[driver stdout] tick 2"));
        List<String> logBefore = fullLog(b, id);
        String tag = YarnLauncher.storedTag(tmp.resolve(aDir).resolve("batches").resolve(Integer.toString(id))).orElseThrow();
        // A user following the log through the Java client given both servers: on A, the first.
        List<Integer> offsets = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> followedLines = new java.util.concurrent.CopyOnWriteArrayList<>();
        SparkgateClient client = SparkgateClient.builder(a.target() + "," + b.target()).build();
        LogFollow follow = client.followLog(id, 0);
        CompletableFuture<Optional<BatchState>> followed = CompletableFuture.supplyAsync(() -> {
            follow.forEachRemaining(line -> {
                offsets.add(line.getOffset());
                followedLines.add(line.getText());
            });
            return follow.finalState();
        });
        await("the follower on A reads the driver's output").atMost(YARN_APP_TIMEOUT)
                .until(() -> followedLines.contains("[driver stdout] tick 2"));

        a.crash();
        long crashed = System.nanoTime();
        await("B adopts the application").atMost(LEASE_TTL.plus(SCAN).plusSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> b.output().contains("batch " + id + ": taken over, its application adopted"));
        Duration takeover = Duration.ofNanos(System.nanoTime() - crashed);
        System.out.printf("ReplicaTakeoverTest: YARN batch taken over %d ms after SIGKILL of its replica "
                + "(lease TTL %d ms, scan %d ms, renew 1000 ms)%n", takeover.toMillis(), LEASE_TTL.toMillis(), SCAN.toMillis());
        assertThat(state(b, id)).isEqualTo("running");
        assertThat(b.getJson("/batches/" + id).get("appId").asText()).isEqualTo(appId);

        await("the adopted driver's output goes on in B's log").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> fullLog(b, id).stream().filter(l -> l.startsWith("[driver stdout] tick ")).count()
                        > logBefore.stream().filter(l -> l.startsWith("[driver stdout] tick ")).count() + 2);
        Files.createFile(stop);
        await("the batch ends").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> List.of("success", "dead", "killed").contains(state(b, id)));
        assertThat(state(b, id)).as("%s", b.getJson("/batches/" + id)).isEqualTo("success");
        // The log goes on after the lines A had copied, under the same offsets, with no tick missing.
        List<String> log = fullLog(b, id);
        assertThat(log.subList(0, logBefore.size())).isEqualTo(logBefore);
        List<String> ticks = log.stream().filter(l -> l.startsWith("[driver stdout] tick ")).toList();
        List<String> distinct = ticks.stream().distinct().toList();
        assertThat(distinct).hasSizeGreaterThan(3).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, distinct.size()).mapToObj(i -> "[driver stdout] tick " + i).toList());
        System.out.printf("ReplicaTakeoverTest: %d driver ticks in the log after the takeover, %d of them repeated%n",
                distinct.size(), ticks.size() - distinct.size());
        assertThat(applicationsTagged(tag)).extracting(r -> r.getApplicationId().toString()).containsExactly(appId);
        assertThat(applicationsTagged(tag).get(0).getYarnApplicationState()).isEqualTo(YarnApplicationState.FINISHED);

        // The follower moved from A to B on its own and got the rest of the log exactly: every line
        // once, under B's offsets, nothing A had shown it missing from B.
        try (client; follow) {
            assertThat(followed.get(2, TimeUnit.MINUTES)).contains(BatchState.BATCH_STATE_SUCCESS);
        }
        assertThat(offsets).containsExactlyElementsOf(IntStream.range(0, log.size()).boxed().toList());
        assertThat(followedLines).containsExactlyElementsOf(log);
    }

    @Test
    void aReplicaPausedPastItsLeaseStopsFollowingTheApplicationTheOtherTookOver() throws Exception {
        String database = TestPostgres.newDatabase();
        CompletableFuture<ServerProcess> second = CompletableFuture.supplyAsync(() -> startServer(database, "pb"));
        ServerProcess first = startServer(database, "pa");
        ServerProcess other = second.join();
        Path stop = tmp.resolve("stop-paused");
        HttpResponse<String> created = first.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.SleepingApp", "args": ["600", "%s"]}
                """.formatted(TestServer.EXAMPLES_JAR, stop));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        int id = JSON.readTree(created.body()).get("id").asInt();
        await("launched").atMost(YARN_APP_TIMEOUT).until(() -> tracked(first) + tracked(other) == 1);
        ServerProcess a = tracked(first) == 1 ? first : other; // the replica that launched it
        ServerProcess b = a == first ? other : first;
        String aDir = a == first ? "pa" : "pb";
        await("running on YARN").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> state(b, id).equals("running"));
        assertThat(tracked(a)).as("applications A follows").isEqualTo(1);
        assertThat(tracked(b)).as("applications B follows").isEqualTo(0);

        a.signal("STOP"); // a long pause: A's lease runs out and B takes the batch over
        try {
            await("B adopts the application").atMost(LEASE_TTL.plus(SCAN).plusSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> b.output().contains("batch " + id + ": taken over, its application adopted"));
        } finally {
            a.signal("CONT");
        }
        // A wakes believing it holds the batch: its next renewal or write finds the lease gone, and it
        // stops following the application, which runs on under B.
        await("A lets the batch go").atMost(Duration.ofSeconds(60))
                .until(() -> a.output().contains("batch " + id + ": lease lost to another replica"));
        await("A no longer polls YARN for it").atMost(Duration.ofSeconds(30)).until(() -> tracked(a) == 0);
        assertThat(a.output()).contains("batch " + id + ": no longer following its YARN application");
        assertThat(tracked(b)).isEqualTo(1);
        assertThat(state(a, id)).isEqualTo("running");

        Files.createFile(stop);
        await("the batch ends under B").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> List.of("success", "dead", "killed").contains(state(b, id)));
        assertThat(state(a, id)).isEqualTo("success");
        assertThat(tracked(b)).isEqualTo(0);
        String tag = YarnLauncher.storedTag(tmp.resolve(aDir).resolve("batches").resolve(Integer.toString(id))).orElseThrow();
        assertThat(applicationsTagged(tag)).hasSize(1);
    }

    /** The server's own gauge of the YARN applications it follows, as an operator scrapes it. */
    private static int tracked(ServerProcess server) {
        String metrics = server.call("GET", "/metrics", null).body();
        return metrics.lines().filter(l -> l.startsWith("sparkgate_yarn_applications_tracked "))
                .map(l -> (int) Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim()))
                .findFirst().orElseThrow(() -> new AssertionError("no gauge sparkgate_yarn_applications_tracked"));
    }

    private ServerProcess startServer(String database, String name) {
        List<String> conf = new ArrayList<>(ServerProcess.testConf());
        yarn.serverConfig(tmp).forEach((k, v) -> conf.add(k + " = " + v));
        conf.addAll(List.of(
                ConfigKeys.STORE_URL.name() + " = " + database,
                ConfigKeys.STORE_USER.name() + " = " + TestPostgres.USER,
                ConfigKeys.STORE_PASSWORD.name() + " = " + TestPostgres.USER,
                ConfigKeys.REPLICA_LEASE_TTL.name() + " = " + LEASE_TTL.toMillis() + "ms",
                ConfigKeys.REPLICA_RENEW_INTERVAL.name() + " = 1s",
                ConfigKeys.REPLICA_SCAN_INTERVAL.name() + " = " + SCAN.toMillis() + "ms",
                ConfigKeys.DRAIN_GRACE.name() + " = 0s"));
        ServerProcess server = ServerProcess.start(tmp.resolve(name), tmp, name, conf, Map.of());
        synchronized (servers) {
            servers.add(server);
        }
        return server;
    }

    private static List<String> fullLog(ServerProcess server, int id) {
        List<String> lines = new ArrayList<>();
        server.getJson("/batches/" + id + "/log?from=0&size=-1").get("log").forEach(l -> lines.add(l.asText()));
        return lines;
    }

    private static String state(ServerProcess server, int id) {
        return server.getJson("/batches/" + id + "/state").get("state").asText();
    }

    private static List<ApplicationReport> applicationsTagged(String tag) throws Exception {
        return yarn.client().getApplications(null, EnumSet.allOf(YarnApplicationState.class), Set.of(tag));
    }
}
