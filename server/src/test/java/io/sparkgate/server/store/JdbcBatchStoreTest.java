package io.sparkgate.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchFilter;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import io.sparkgate.server.values.LaunchInfo;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batch store against both databases it supports, the embedded H2 and a real PostgreSQL (started
 * by the test from the binaries in a Maven Central jar): the same tests, the same code path.
 */
class JdbcBatchStoreTest {

    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static EmbeddedPostgres postgres;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startPostgres() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        postgres.close();
    }

    /** A new, empty database of each kind per test: its JDBC URL. */
    static Stream<Arguments> databases() {
        Supplier<String> h2 = () -> JdbcBatchStore.embeddedUrl(tmp.resolve("h2-" + DATABASES.incrementAndGet()));
        Supplier<String> pg = () -> {
            String name = "sparkgate_" + DATABASES.incrementAndGet();
            try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + name);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            return postgres.getJdbcUrl("postgres", name);
        };
        return Stream.of(Arguments.of("h2", h2), Arguments.of("postgresql", pg));
    }

    private static JdbcBatchStore open(String url) {
        return url.startsWith("jdbc:h2:") ? JdbcBatchStore.open(url, "sparkgate", "")
                                          : JdbcBatchStore.open(url, "postgres", "postgres");
    }

    private static final Instant T0 = Instant.parse("2026-11-25T10:00:00.123456Z");

    private static Batch batch(String name, BatchState... states) {
        List<StateChange> history = new ArrayList<>();
        for (int i = 0; i < states.length; i++) {
            history.add(new StateChange(states[i], T0.plusSeconds(i), "reason " + i));
        }
        BatchRequest request = BatchRequest.of("/jobs/app.jar")
                .withClassName("com.example.Main")
                .withName(name)
                .withArgs(List.of("a b", "2000", "\"quoted\""))
                .withConf(Map.of("spark.executor.instances", "2", "spark.app.note", "é ✓"));
        return new Batch(-1, request, "alice", "", "", "", history, T0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aBatchRoundTripsWithItsRequestHistoryAndAppInfo(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            Batch created = batch("pi", BatchState.STARTING);
            int id = store.insert(created, "");

            Batch stored = store.get(id).orElseThrow();
            assertThat(stored.id()).isEqualTo(id);
            assertThat(stored.request()).isEqualTo(created.request());
            assertThat(stored.owner()).isEqualTo("alice");
            assertThat(stored.history()).isEqualTo(created.history());
            assertThat(stored.createdTime()).isEqualTo(T0);

            List<StateChange> history = new ArrayList<>(stored.history());
            history.add(new StateChange(BatchState.RUNNING, T0.plusSeconds(5), "spark-submit started"));
            history.add(new StateChange(BatchState.SUCCESS, T0.plusSeconds(9), "spark-submit exited with code 0"));
            Batch finished = new Batch(id, stored.request(), "alice", "local-1", "http://ui", "http://log", history, T0);
            store.save(finished);
            store.saveExitCode(id, 0);
            store.saveLaunch(id, new LaunchInfo(4242, Instant.parse("2026-11-25T10:00:01.500Z")));

            assertThat(store.get(id)).contains(finished);
            assertThat(store.exitCode(id)).isEqualTo(OptionalInt.of(0));
            assertThat(store.launch(id)).contains(new LaunchInfo(4242, Instant.parse("2026-11-25T10:00:01.500Z")));
            assertThat(store.listUnfinished()).isEmpty();
            assertThat(store.finishedBefore(T0.plusSeconds(10))).containsExactly(id);
            assertThat(store.finishedBefore(T0.plusSeconds(9))).isEmpty();

            assertThat(store.delete(id)).isTrue();
            assertThat(store.get(id)).isEmpty();
            assertThat(store.delete(id)).isFalse();
            assertThat(store.count()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aUsersListHoldsTheBatchesTheyOwnOrRunAsAndNoOthers(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            BatchRequest plain = BatchRequest.of("/jobs/app.jar");
            BatchRequest asBob = new BatchRequest("/jobs/app.jar", "", "bob", "", List.of(), List.of(), List.of(),
                    List.of(), List.of(), "", OptionalInt.empty(), "", OptionalInt.empty(), OptionalInt.empty(), "",
                    Map.of());
            List<StateChange> starting = List.of(new StateChange(BatchState.STARTING, T0, "submitted"));
            int alices = store.insert(new Batch(-1, plain, "alice", "", "", "", starting, T0), "");
            int carolsAsBob = store.insert(new Batch(-1, asBob, "carol", "", "", "", starting, T0), "");
            int bobs = store.insert(new Batch(-1, plain, "bob", "", "", "", starting, T0), "");
            store.insert(new Batch(-1, plain, "", "", "", "", starting, T0), "");

            assertThat(store.countOf("bob")).isEqualTo(2);
            assertThat(store.listOf("bob", 0, 10)).extracting(Batch::id).containsExactly(carolsAsBob, bobs);
            assertThat(store.listOf("bob", 1, 10)).extracting(Batch::id).containsExactly(bobs);
            assertThat(store.listOf("alice", 0, 10)).extracting(Batch::id).containsExactly(alices);
            assertThat(store.listOf("carol", 0, 10)).extracting(Batch::id).containsExactly(carolsAsBob);
            assertThat(store.countOf("mallory")).isZero();
            assertThat(store.count()).isEqualTo(4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aNameFindsTheNewestBatchOfThatNameWithinTheCallersScope(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            List<StateChange> starting = List.of(new StateChange(BatchState.STARTING, T0, "submitted"));
            BatchRequest etl = BatchRequest.of("/jobs/app.jar").withName("etl-daily");
            int alicesFirst = store.insert(new Batch(-1, etl, "alice", "", "", "", starting, T0), "");
            store.insert(new Batch(-1, BatchRequest.of("/jobs/app.jar").withName("etl-daily-2"), "alice", "", "", "",
                    starting, T0), "");
            int alicesSecond = store.insert(new Batch(-1, etl, "alice", "", "", "", starting, T0), "");
            int bobs = store.insert(new Batch(-1, etl, "bob", "", "", "", starting, T0), "");

            assertThat(store.findNewestNamed("etl-daily", Optional.empty())).map(Batch::id).contains(bobs);
            assertThat(store.findNewestNamed("etl-daily", Optional.of("alice"))).map(Batch::id).contains(alicesSecond);
            assertThat(store.findNewestNamed("etl", Optional.empty())).isEmpty();
            assertThat(store.findNewestNamed("", Optional.empty())).isEmpty();
            assertThat(alicesFirst).isLessThan(alicesSecond);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void pagesAreInAscendingIdOrderWithTheirOwnHistories(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                ids.add(store.insert(batch("b" + i, i % 2 == 0
                        ? new BatchState[] {BatchState.STARTING}
                        : new BatchState[] {BatchState.STARTING, BatchState.RUNNING, BatchState.DEAD}), ""));
            }
            assertThat(ids).isSorted().doesNotHaveDuplicates();
            assertThat(ids.get(0)).isZero();
            store.delete(ids.get(3));

            assertThat(store.count()).isEqualTo(6);
            assertThat(store.list(0, 100)).extracting(b -> b.request().name())
                    .containsExactly("b0", "b1", "b2", "b4", "b5", "b6");
            List<Batch> page = store.list(2, 3);
            assertThat(page).extracting(b -> b.request().name()).containsExactly("b2", "b4", "b5");
            assertThat(page).extracting(b -> b.history().size()).containsExactly(1, 1, 3);
            assertThat(store.list(6, 10)).isEmpty();
            assertThat(store.list(0, 0)).isEmpty();
            assertThat(store.listUnfinished()).extracting(b -> b.request().name()).containsExactly("b0", "b2", "b4", "b6");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aPageDeepInTheListHoldsTheBatchesAtThatPositionAsTheListChanges(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 1_300; i++) {
                ids.add(store.insert(batch("b" + i, BatchState.STARTING), ""));
            }
            for (int gone : List.of(0, 7, 1_100, 1_299)) {
                assertThat(store.delete(ids.get(gone))).isTrue();
            }
            List<Integer> expected = new ArrayList<>(ids);
            expected.removeAll(List.of(ids.get(0), ids.get(7), ids.get(1_100), ids.get(1_299)));
            BatchFilter all = BatchFilter.all(Optional.empty());
            BatchFilter newest = new BatchFilter(Optional.empty(), java.util.Set.of(), "", "", true);
            for (int round = 0; round < 2; round++) {
                for (int from : List.of(0, 995, 1_000, 1_090, 1_290, 1_296, 1_400)) {
                    BatchStore.PageIds page = store.page(all, from, 10);
                    assertThat(page.total()).isEqualTo(expected.size());
                    assertThat(page.ids()).as("from %d", from)
                            .isEqualTo(expected.subList(Math.min(from, expected.size()), Math.min(from + 10, expected.size())));
                    assertThat(store.pageIds(all, from, 10)).isEqualTo(page.ids());
                    List<Integer> descending = new ArrayList<>(expected);
                    java.util.Collections.reverse(descending);
                    assertThat(store.page(newest, from, 10).ids()).as("newest first, from %d", from)
                            .isEqualTo(descending.subList(Math.min(from, descending.size()), Math.min(from + 10, descending.size())));
                }
                assertThat(store.list(1_200, 3)).extracting(Batch::id).isEqualTo(expected.subList(1_200, 1_203));
                // The list changes after a deep page was read: later pages see the change.
                expected.add(store.insert(batch("new", BatchState.STARTING), ""));
                store.delete(expected.remove(1_000));
            }
            // A filtered page (a user's batches) is still the database's.
            assertThat(store.page(BatchFilter.all(Optional.of("alice")), 1_200, 5).ids())
                    .isEqualTo(expected.subList(1_200, 1_205));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aPageIsReadWithTheLogTailsRecordedForItsBatches(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            int silent = store.insert(batch("silent", BatchState.STARTING, BatchState.RUNNING, BatchState.SUCCESS), "");
            int chatty = store.insert(batch("chatty", BatchState.STARTING, BatchState.RUNNING, BatchState.DEAD), "");
            int blank = store.insert(batch("blank line", BatchState.STARTING, BatchState.RUNNING, BatchState.SUCCESS), "");
            int unrecorded = store.insert(batch("still running", BatchState.STARTING, BatchState.RUNNING), "");
            int huge = store.insert(batch("huge lines", BatchState.STARTING, BatchState.RUNNING, BatchState.SUCCESS), "");
            store.saveLogTail(silent, List.of());
            store.saveLogTail(chatty, List.of("Exception in thread \"main\" é ✓", "\tat App.main(App.java:3)", ""));
            store.saveLogTail(blank, List.of(""));
            store.saveLogTail(huge, List.of("x".repeat(20_000)));

            assertThat(store.pageIds(io.sparkgate.server.values.BatchFilter.all(java.util.Optional.empty()), 0, 100))
                    .containsExactly(silent, chatty, blank, unrecorded, huge);
            assertThat(store.pageIds(io.sparkgate.server.values.BatchFilter.all(java.util.Optional.empty()), 1, 2)).containsExactly(chatty, blank);
            List<StoredBatch> page = store.getAll(List.of(huge, silent, 9999, chatty, blank, unrecorded));
            assertThat(page).extracting(s -> s.batch().id()).containsExactly(silent, chatty, blank, unrecorded, huge);
            assertThat(page).extracting(StoredBatch::logTail).containsExactly(
                    java.util.Optional.of(List.of()),
                    java.util.Optional.of(List.of("Exception in thread \"main\" é ✓", "\tat App.main(App.java:3)", "")),
                    java.util.Optional.of(List.of("")),
                    java.util.Optional.empty(),
                    java.util.Optional.empty()); // too long to keep in the row: read from the log file instead
            assertThat(page.get(1).batch().history()).extracting(StateChange::state)
                    .containsExactly(BatchState.STARTING, BatchState.RUNNING, BatchState.DEAD);
            assertThat(store.getAll(List.of())).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void concurrentInsertsAllLandWithTheirOwnIdsAndOneRequestIdTakenFailsOnlyItsCaller(String kind,
            Supplier<String> database) throws Exception {
        try (JdbcBatchStore store = open(database.get())) {
            int n = 40;
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
            try {
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                List<java.util.concurrent.Future<Integer>> inserts = new ArrayList<>();
                List<String> names = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String requestId = i < 2 ? "the-same-key" : "key-" + i;
                    String name = "b" + i;
                    names.add(name);
                    inserts.add(pool.submit(() -> {
                        go.await();
                        return store.insert(batch(name, BatchState.STARTING), requestId);
                    }));
                }
                go.countDown();
                List<Integer> ids = new ArrayList<>();
                int taken = 0;
                for (int i = 0; i < n; i++) {
                    try {
                        int id = inserts.get(i).get();
                        ids.add(id);
                        String name = names.get(i); // each caller got the id of its own batch, and it is stored
                        assertThat(store.get(id)).hasValueSatisfying(b -> assertThat(b.request().name()).isEqualTo(name));
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(RequestIdTakenException.class);
                        taken++;
                    }
                }
                assertThat(taken).isEqualTo(1);
                assertThat(ids).hasSize(n - 1).doesNotHaveDuplicates();
                assertThat(store.count()).isEqualTo(n - 1);
                assertThat(store.list(0, n)).extracting(b -> b.request().name()).doesNotHaveDuplicates().hasSize(n - 1);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aRequestIdNamesOneBatch(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            int id = store.insert(batch("first", BatchState.STARTING), "req-1");
            store.insert(batch("no key", BatchState.STARTING), "");
            store.insert(batch("no key either", BatchState.STARTING), "");

            assertThatThrownBy(() -> store.insert(batch("second", BatchState.STARTING), "req-1"))
                    .isInstanceOf(RequestIdTakenException.class);

            assertThat(store.findByRequestId("req-1")).hasValueSatisfying(b -> assertThat(b.id()).isEqualTo(id));
            assertThat(store.findByRequestId("req-2")).isEmpty();
            assertThat(store.count()).isEqualTo(3);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void migratesAnEmptyDatabaseThenReopensItWithItsBatchesAndIdsKeepIncreasing(String kind, Supplier<String> database)
            throws SQLException {
        String url = database.get();
        int before;
        try (JdbcBatchStore store = open(url)) {
            store.insert(batch("a", BatchState.STARTING), "");
            before = store.insert(batch("b", BatchState.STARTING), "");
            store.delete(before); // the highest id is gone: it must still never come back
        }
        try (JdbcBatchStore store = open(url)) {
            assertThat(store.list(0, 10)).extracting(b -> b.request().name()).containsExactly("a");
            int after = store.insert(batch("c", BatchState.STARTING), "");
            assertThat(after).isGreaterThan(before);
        }
        try (Connection c = java.sql.DriverManager.getConnection(url, kind.equals("h2") ? "sparkgate" : "postgres",
                     kind.equals("h2") ? "" : "postgres");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT \"version\", \"success\" FROM \"flyway_schema_history\" WHERE \"version\" IS NOT NULL "
                     + "ORDER BY \"installed_rank\"")) {
            for (String version : migrationVersions()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(version);
                assertThat(rs.getBoolean(2)).isTrue();
            }
            assertThat(rs.next()).isFalse();
        }
    }

    /**
     * The versions of the migrations in the source tree, SQL and Java ones, in order: every one must have
     * been applied.
     */
    private static List<String> migrationVersions() {
        List<String> versions = new ArrayList<>();
        for (Path dir : List.of(Path.of("src/main/resources/db/sparkgate"), Path.of("src/main/java/db/sparkgate"))) {
            if (!java.nio.file.Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = java.nio.file.Files.list(dir)) {
                files.map(f -> f.getFileName().toString())
                        .filter(name -> name.matches("V\\d+__.*\\.(sql|java)"))
                        .map(name -> name.substring(1, name.indexOf("__")))
                        .forEach(versions::add);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        versions.sort(java.util.Comparator.comparingInt(Integer::parseInt));
        return versions;
    }
}
