package io.sparkgate.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchFilter;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The list's filters in the database, on H2 and a real PostgreSQL: the same rule as
 * {@link BatchFilter#matches}, and batches recorded before the name column existed found by name too.
 */
class BatchListFilterStoreTest {

    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
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

    static Stream<Arguments> databases() {
        Supplier<String> h2 = () -> JdbcBatchStore.embeddedUrl(tmp.resolve("h2-" + DATABASES.incrementAndGet()));
        Supplier<String> pg = () -> {
            String name = "sparkgate_filter_" + DATABASES.incrementAndGet();
            try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + name);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            return postgres.getJdbcUrl("postgres", name);
        };
        return Stream.of(Arguments.of("h2", h2), Arguments.of("postgresql", pg));
    }

    private static String user(String url) {
        return url.startsWith("jdbc:h2:") ? "sparkgate" : "postgres";
    }

    private static String password(String url) {
        return url.startsWith("jdbc:h2:") ? "" : "postgres";
    }

    private static Batch batch(String name, String owner, BatchState state) {
        return new Batch(-1, BatchRequest.of("/jobs/app.jar").withName(name), owner, "", "", "",
                List.of(new StateChange(state, T0, "test")), T0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void filtersNarrowOrderReversesAndTheCountMatches(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            int etl1 = store.insert(batch("etl-daily", "alice", BatchState.SUCCESS), "");
            int pi = store.insert(batch("pi", "bob", BatchState.DEAD), "");
            int etl2 = store.insert(batch("etl_hourly", "bob", BatchState.RUNNING), "");
            int odd = store.insert(batch("100% etl", "alice", BatchState.SUCCESS), "");

            assertThat(ids(store, filter(Set.of(), "etl", "", false))).containsExactly(etl1, etl2, odd);
            assertThat(ids(store, filter(Set.of(), "etl", "", true))).containsExactly(odd, etl2, etl1);
            assertThat(store.count(filter(Set.of(), "etl", "", false))).isEqualTo(3);
            // LIKE's wildcards are plain characters in a name filter.
            assertThat(ids(store, filter(Set.of(), "%", "", false))).containsExactly(odd);
            assertThat(ids(store, filter(Set.of(), "l_h", "", false))).containsExactly(etl2);
            assertThat(ids(store, filter(Set.of(BatchState.SUCCESS, BatchState.DEAD), "", "", false)))
                    .containsExactly(etl1, pi, odd);
            assertThat(ids(store, filter(Set.of(), "", "bob", true))).containsExactly(etl2, pi);
            assertThat(store.count(filter(Set.of(BatchState.RUNNING), "", "alice", false))).isZero();
            // Paging through newest first.
            assertThat(store.list(filter(Set.of(), "", "", true), 1, 2)).extracting(Batch::id).containsExactly(etl2, pi);
            // The access scope narrows the same way (owner or proxy user).
            BatchFilter bobsOnly = new BatchFilter(Optional.of("bob"), Set.of(), "etl", "", false);
            assertThat(ids(store, bobsOnly)).containsExactly(etl2);
            // The same rule in memory, for the watch.
            for (Batch b : store.list(0, 10)) {
                assertThat(bobsOnly.matches(b)).isEqualTo(b.id() == etl2);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aPageAndTheListsLengthComeInOneReadAndAgreeWithTheSeparateOnes(String kind, Supplier<String> database) {
        try (JdbcBatchStore store = open(database.get())) {
            store.insert(batch("etl-daily", "alice", BatchState.SUCCESS), "");
            int b = store.insert(batch("pi", "bob", BatchState.DEAD), "");
            int c = store.insert(batch("etl_hourly", "bob", BatchState.RUNNING), "");
            BatchFilter bobs = new BatchFilter(Optional.of("bob"), Set.of(), "", "", false);

            assertThat(store.page(BatchFilter.all(Optional.empty()), 1, 5))
                    .isEqualTo(new BatchStore.PageIds(List.of(b, c), 3));
            assertThat(store.page(filter(Set.of(), "", "", true), 0, 2))
                    .isEqualTo(new BatchStore.PageIds(List.of(c, b), 3));
            assertThat(store.page(bobs, 0, 1)).isEqualTo(new BatchStore.PageIds(List.of(b), 2));
            // Past the end: no row carries the count, which is still the list's length.
            assertThat(store.page(BatchFilter.all(Optional.empty()), 10, 5))
                    .isEqualTo(new BatchStore.PageIds(List.of(), 3));
            assertThat(store.page(filter(Set.of(BatchState.KILLED), "", "", false), 0, 5))
                    .isEqualTo(new BatchStore.PageIds(List.of(), 0));
            assertThat(store.page(bobs, 0, 100).ids()).isEqualTo(store.pageIds(bobs, 0, 100)).containsExactly(b, c);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void batchesRecordedBeforeTheNameColumnAreFoundByName(String kind, Supplier<String> database) throws Exception {
        String url = database.get();
        // A database as version 2 left it, with one batch in it.
        Flyway.configure().dataSource(url, user(url), password(url)).locations("classpath:db/sparkgate")
                .target("2").load().migrate();
        try (Connection c = java.sql.DriverManager.getConnection(url, user(url), password(url));
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO batches (request, owner, state, app_id, spark_ui_url, driver_log_url, created_time) "
                    + "VALUES ('{\"file\":\"/jobs/app.jar\",\"name\":\"nightly-etl\"}', 'alice', 'SUCCESS', '', '', '', "
                    + "TIMESTAMP WITH TIME ZONE '2026-12-01 10:00:00+00')");
            s.execute("INSERT INTO batch_state_changes (batch_id, seq, state, entered_time, reason) "
                    + "VALUES (0, 0, 'SUCCESS', TIMESTAMP WITH TIME ZONE '2026-12-01 10:00:00+00', 'old')");
        }
        try (JdbcBatchStore store = open(url)) {
            assertThat(store.list(filter(Set.of(), "etl", "", false), 0, 10))
                    .extracting(b -> b.request().name()).containsExactly("nightly-etl");
        }
    }

    private static JdbcBatchStore open(String url) {
        return JdbcBatchStore.open(url, user(url), password(url));
    }

    private static BatchFilter filter(Set<BatchState> states, String name, String owner, boolean newestFirst) {
        return new BatchFilter(Optional.empty(), states, name, owner, newestFirst);
    }

    private static List<Integer> ids(JdbcBatchStore store, BatchFilter f) {
        return store.list(f, 0, 100).stream().map(Batch::id).toList();
    }
}
