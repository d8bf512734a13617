package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import io.sparkgate.server.values.LaunchInfo;
import io.sparkgate.server.values.BatchFilter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches in a JDBC database: an embedded H2 file database by default, PostgreSQL by URL. One schema
 * and one code path for both (portable SQL, migrations by Flyway in {@code db/sparkgate}); every
 * method is one short transaction, committed before it returns.
 *
 * <p>Connections come from a small HikariCP pool for both databases, rather than one shared
 * connection for H2: the API's blocking threads, the launch threads and the log tailer all read and
 * write batches, and a pool lets them do so concurrently (H2's MVStore has row-level locking) with
 * the same code that PostgreSQL needs. Concurrent inserts share one transaction ({@link GroupCommit}).
 *
 * <p>Longer than most classes here because it is the one place that speaks SQL: every query of the
 * schema is in this file, next to the others it must agree with.
 */
public final class JdbcBatchStore implements BatchStore {

    private static final Logger log = LoggerFactory.getLogger(JdbcBatchStore.class);

    /** SQLSTATE of a unique constraint violation, in H2 and PostgreSQL alike. */
    private static final String UNIQUE_VIOLATION = "23505";

    private static final String COLUMNS = "id, request_id, request, owner, state, app_id, spark_ui_url, "
            + "driver_log_url, created_time, log_tail";

    /** Longest log tail kept in a row ({@link #saveLogTail}), in characters. */
    private static final int MAX_LOG_TAIL_CHARS = 16 * 1024;
    private static final int MAX_IDS_PER_QUERY = 500;
    /**
     * From this far into the whole list on, an H2 page comes from the {@link IdIndex} (loaded then, if not
     * yet): nearer the start, skipping rows costs less than loading every id once.
     */
    private static final int INDEXED_PAGE_FROM = 1000;

    private final HikariDataSource dataSource;
    private final BatchLeases leases;
    private final boolean postgres;
    private final LogChunks logChunks;
    private final GroupCommit<NewBatch, Integer> inserts = new GroupCommit<>(this::insertAll);
    /** H2 only: every id in order, for pages deep in the whole list; null on PostgreSQL (see {@link IdIndex}). */
    private final IdIndex idIndex;

    private JdbcBatchStore(HikariDataSource dataSource, boolean postgres) {
        this.dataSource = dataSource;
        this.idIndex = postgres ? null : new IdIndex();
        this.leases = new BatchLeases(dataSource, postgres);
        this.postgres = postgres;
        this.logChunks = new LogChunks(dataSource);
    }

    /**
     * The JDBC URL of the embedded database in {@code dataDir}. {@code WRITE_DELAY=0}: H2 has no redo
     * log and by default writes commits to its file up to half a second later, so a killed server would
     * lose batches it had acknowledged. {@code DB_CLOSE_ON_EXIT=FALSE}: the server closes the pool itself
     * on shutdown, after its last write.
     */
    public static String embeddedUrl(Path dataDir) {
        return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("store").resolve("sparkgate")
               + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE";
    }

    /** Connects, brings the schema up to date and returns the store. */
    public static JdbcBatchStore open(String url, String user, String password) {
        requireNonNull(url, "url");
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("sparkgate-store");
        hc.setJdbcUrl(url);
        hc.setUsername(requireNonNull(user, "user"));
        hc.setPassword(requireNonNull(password, "password"));
        hc.setMaximumPoolSize(url.startsWith("jdbc:h2:") ? 4 : 8);
        hc.setMinimumIdle(1);
        hc.setAutoCommit(true);
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw inUse(url, e);
        }
        try {
            Flyway.configure()
                    .dataSource(ds)
                    .locations("classpath:db/sparkgate")
                    .failOnMissingLocations(true)
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
        log.info("batch store: {}", url.replaceAll(";.*", ""));
        JdbcBatchStore store = new JdbcBatchStore(ds, url.startsWith("jdbc:postgresql:"));
        if (store.idIndex != null) {
            store.loadIdIndexSoon();
        }
        return store;
    }

    /**
     * An H2 file another server has open (H2 locks it) says so in words an operator can act on: two
     * servers share batches only through PostgreSQL.
     */
    private static RuntimeException inUse(String url, RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getErrorCode() == org.h2.api.ErrorCode.DATABASE_ALREADY_OPEN_1) {
                return new StoreInUseException(url.replaceAll(";.*", ""), e);
            }
        }
        return e;
    }

    /** Leases of live batches, for servers sharing this database. */
    public BatchLeases leases() {
        return leases;
    }

    @Override
    public Optional<BatchLeases> replicaLeases() {
        return postgres ? Optional.of(leases) : Optional.empty();
    }

    @Override
    public Optional<LogChunks> replicaLogs() {
        return postgres ? Optional.of(logChunks) : Optional.empty();
    }

    @Override
    public int insert(Batch batch, String requestId) {
        try {
            return inserts.write(new NewBatch(batch, requestId)).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    @Override
    public CompletableFuture<Integer> insertLater(Batch batch, String requestId) {
        return inserts.write(new NewBatch(batch, requestId));
    }

    /**
     * A group of concurrent inserts in one transaction and one commit. If any of them fails (a request id
     * taken, say), the group is rolled back and each insert runs alone, so each caller gets its own outcome.
     */
    private void insertAll(List<GroupCommit.Write<NewBatch, Integer>> group) {
        if (group.size() > 1) {
            List<Integer> ids = new ArrayList<>(group.size());
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(false);
                try {
                    for (GroupCommit.Write<NewBatch, Integer> w : group) {
                        ids.add(insertRow(c, w.item.batch(), w.item.requestId()));
                    }
                    c.commit();
                } catch (SQLException e) {
                    c.rollback();
                    ids.clear();
                } finally {
                    c.setAutoCommit(true);
                }
            } catch (SQLException e) {
                ids.clear();
            }
            if (!ids.isEmpty()) {
                indexed(ids);
                for (int i = 0; i < group.size(); i++) {
                    group.get(i).succeed(ids.get(i));
                }
                return;
            }
        }
        for (GroupCommit.Write<NewBatch, Integer> w : group) {
            try {
                w.succeed(insertAlone(w.item.batch(), w.item.requestId()));
            } catch (RuntimeException e) {
                w.fail(e);
            }
        }
    }

    private int insertAlone(Batch batch, String requestId) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                int id = insertRow(c, batch, requestId);
                c.commit();
                indexed(List.of(id));
                return id;
            } catch (SQLException e) {
                c.rollback();
                if (UNIQUE_VIOLATION.equals(e.getSQLState()) && !requestId.isEmpty()) {
                    throw new RequestIdTakenException(requestId, e);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failed("insert a batch", e);
        }
    }

    /** Committed rows with these ids: the {@link IdIndex} learns them before anyone hears of them. */
    private void indexed(List<Integer> ids) {
        if (idIndex != null) {
            ids.forEach(idIndex::added);
        }
    }

    /** Inserts the row and history of a new batch in the connection's transaction; returns its id. */
    private static int insertRow(Connection c, Batch batch, String requestId) throws SQLException {
        String sql = "INSERT INTO batches (request_id, request, owner, state, app_id, spark_ui_url, driver_log_url, "
                     + "created_time, finished_time, proxy_user, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        int id;
        try (PreparedStatement ps = c.prepareStatement(sql, new String[] {"id"})) {
            ps.setString(1, requestId.isEmpty() ? null : requestId);
            ps.setString(2, BatchRequestJson.write(batch.request()));
            ps.setString(3, batch.owner());
            ps.setString(4, batch.state().name());
            ps.setString(5, batch.appId());
            ps.setString(6, batch.sparkUiUrl());
            ps.setString(7, batch.driverLogUrl());
            setTime(ps, 8, batch.createdTime());
            setTime(ps, 9, batch.state().isFinal() ? batch.lastChange().time() : null);
            ps.setString(10, batch.request().proxyUser());
            ps.setString(11, batch.request().name());
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                id = keys.getInt(1);
            }
        }
        insertHistory(c, id, batch.history(), 0);
        return id;
    }

    private record NewBatch(Batch batch, String requestId) {}

    @Override
    public boolean save(Batch batch) {
        return write(batch, null);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The row is updated only {@code WHERE lease_holder = ? AND lease_epoch = ?}; 0 rows means the
     * lease is lost (or the batch gone) and the transaction writes no history either. A final state
     * releases the lease in the same statement.
     */
    @Override
    public void save(Batch batch, Lease lease) {
        requireNonNull(lease, "lease");
        if (lease.batchId() != batch.id()) {
            throw new IllegalArgumentException("lease of batch " + lease.batchId() + " for batch " + batch.id());
        }
        write(batch, lease);
    }

    /** Writes the batch's state; false when no row was updated (the batch is gone). */
    private boolean write(Batch batch, Lease lease) {
        String sql = "UPDATE batches SET state = ?, app_id = ?, spark_ui_url = ?, driver_log_url = ?, "
                     + "finished_time = ?"
                     + (lease == null ? " WHERE id = ?"
                        : (batch.state().isFinal() ? ", lease_holder = NULL, lease_expires = NULL" : "")
                          + " WHERE id = ? AND lease_holder = ? AND lease_epoch = ?");
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                int updated;
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setString(1, batch.state().name());
                    ps.setString(2, batch.appId());
                    ps.setString(3, batch.sparkUiUrl());
                    ps.setString(4, batch.driverLogUrl());
                    setTime(ps, 5, batch.state().isFinal() ? batch.lastChange().time() : null);
                    ps.setInt(6, batch.id());
                    if (lease != null) {
                        ps.setString(7, lease.holder());
                        ps.setLong(8, lease.epoch());
                    }
                    updated = ps.executeUpdate();
                }
                if (updated > 0) {
                    int stored;
                    try (PreparedStatement ps = c.prepareStatement(
                            "SELECT COUNT(*) FROM batch_state_changes WHERE batch_id = ?")) {
                        ps.setInt(1, batch.id());
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            stored = rs.getInt(1);
                        }
                    }
                    insertHistory(c, batch.id(), batch.history(), stored);
                }
                c.commit();
                if (updated == 0 && lease != null) {
                    throw new LeaseLostException(lease);
                }
                return updated > 0;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failed("save batch " + batch.id(), e);
        }
    }

    private static void insertHistory(Connection c, int id, List<StateChange> history, int from) throws SQLException {
        if (from >= history.size()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO batch_state_changes (batch_id, seq, state, entered_time, reason) VALUES (?, ?, ?, ?, ?)")) {
            for (int i = from; i < history.size(); i++) {
                StateChange change = history.get(i);
                ps.setInt(1, id);
                ps.setInt(2, i);
                ps.setString(3, change.state().name());
                setTime(ps, 4, change.time());
                ps.setString(5, change.reason());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    @Override
    public Optional<Batch> get(int id) {
        return getAll(List.of(id)).stream().findFirst().map(StoredBatch::batch);
    }

    @Override
    public Optional<Batch> findByRequestId(String requestId) {
        if (requestId.isEmpty()) {
            return Optional.empty();
        }
        List<Integer> id = ids("SELECT id FROM batches WHERE request_id = ?", ps -> ps.setString(1, requestId));
        return getAll(id).stream().findFirst().map(StoredBatch::batch);
    }

    @Override
    public Optional<Batch> findNewestNamed(String name, Optional<String> visibleTo) {
        if (name.isEmpty()) {
            return Optional.empty();
        }
        // V5's index on (name, id) answers this from the index alone.
        Optional<Integer> id = ids("SELECT id FROM batches WHERE name = ?"
                + (visibleTo.isPresent() ? " AND (owner = ? OR proxy_user = ?)" : "")
                + " ORDER BY id DESC LIMIT 1", ps -> {
                    ps.setString(1, name);
                    if (visibleTo.isPresent()) {
                        ps.setString(2, visibleTo.get());
                        ps.setString(3, visibleTo.get());
                    }
                }).stream().findFirst();
        return id.flatMap(this::get);
    }

    @Override
    public List<Batch> list(int from, int size) {
        return list(BatchFilter.all(Optional.empty()), from, size);
    }

    @Override
    public int count() {
        return ids("SELECT COUNT(*) FROM batches", ps -> { }).get(0);
    }

    @Override
    public List<Batch> listOf(String user, int from, int size) {
        return list(BatchFilter.all(Optional.of(user)), from, size);
    }

    @Override
    public int countOf(String user) {
        return ids("SELECT COUNT(*) FROM batches WHERE owner = ? OR proxy_user = ?", ps -> {
            ps.setString(1, user);
            ps.setString(2, user);
        }).get(0);
    }

    @Override
    public List<Batch> list(BatchFilter filter, int from, int size) {
        List<Integer> page = pageIds(filter, from, size);
        Map<Integer, Batch> byId = new java.util.HashMap<>();
        getAll(page).forEach(s -> byId.put(s.batch().id(), s.batch()));
        return page.stream().map(byId::get).filter(java.util.Objects::nonNull).toList(); // in the filter's order
    }

    @Override
    public List<Integer> pageIds(BatchFilter filter, int from, int size) {
        Where where = Where.of(filter);
        if (indexedPage(where, from)) {
            return idIndex.page(from, size, filter.newestFirst(), this::allIds).ids();
        }
        return ids("SELECT id FROM batches" + where.sql + " ORDER BY id" + (filter.newestFirst() ? " DESC" : "")
                + " LIMIT ? OFFSET ?", ps -> {
                    int next = where.bind(ps);
                    ps.setInt(next, size);
                    ps.setInt(next + 1, from);
                });
    }

    @Override
    public PageIds page(BatchFilter filter, int from, int size) {
        // The count as a scalar subquery: evaluated once per query (H2 and PostgreSQL alike), in the same
        // snapshot as the page; an empty page has no row to carry it, so it is asked for on its own then.
        Where where = Where.of(filter);
        if (indexedPage(where, from)) {
            return idIndex.page(from, size, filter.newestFirst(), this::allIds);
        }
        String sql = "SELECT id, (SELECT COUNT(*) FROM batches" + where.sql + ") FROM batches" + where.sql
                + " ORDER BY id" + (filter.newestFirst() ? " DESC" : "") + " LIMIT ? OFFSET ?";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int next = where.bind(ps, where.bind(ps, 1));
            ps.setInt(next, size);
            ps.setInt(next + 1, from);
            List<Integer> ids = new ArrayList<>(Math.min(size, 1000));
            int total = -1;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getInt(1));
                    total = rs.getInt(2);
                }
            }
            return new PageIds(ids, total >= 0 ? total : count(filter));
        } catch (SQLException e) {
            throw failed("read batches", e);
        }
    }

    /** An H2 page of the whole list, deep in it or once the index is loaded anyway: from the {@link IdIndex}. */
    private boolean indexedPage(Where where, int from) {
        return idIndex != null && where.sql.isEmpty() && (from >= INDEXED_PAGE_FROM || idIndex.isLoaded());
    }

    /**
     * Every id, in no particular order: once per server process (see {@link IdIndex}). H2 walks its primary
     * key for {@code ORDER BY id}, decoding every row whole; V40's index of ids alone is a tenth of the
     * time, and H2 takes it only when named and when no order is asked for.
     */
    private List<Integer> allIds() {
        return ids("SELECT id FROM batches USE INDEX (batches_id)", ps -> { });
    }

    /**
     * H2: the {@link IdIndex} is loaded on a thread of its own as soon as the store is open, so the first
     * deep page does not wait for it (the server takes a second or more to start serving anyway). A failed
     * load is left to the first deep page, which tries again and reports the error to its caller.
     */
    private void loadIdIndexSoon() {
        Thread t = new Thread(() -> {
            try {
                idIndex.ensureLoaded(this::allIds);
            } catch (RuntimeException e) {
                log.debug("batch store: the id index was not loaded in the background", e);
            }
        }, "sparkgate-store-id-index");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public int count(BatchFilter filter) {
        Where where = Where.of(filter);
        return ids("SELECT COUNT(*) FROM batches" + where.sql, where::bind).get(0);
    }

    /** The SQL of a {@link BatchFilter}: the same rule as {@link BatchFilter#matches}. */
    private record Where(String sql, List<String> values) {
        static Where of(BatchFilter f) {
            List<String> clauses = new ArrayList<>();
            List<String> values = new ArrayList<>();
            f.visibleTo().ifPresent(user -> {
                clauses.add("(owner = ? OR proxy_user = ?)");
                values.add(user);
                values.add(user);
            });
            if (!f.states().isEmpty()) {
                clauses.add("state IN (" + String.join(", ", java.util.Collections.nCopies(f.states().size(), "?"))
                        + ")");
                f.states().forEach(s -> values.add(s.name()));
            }
            if (!f.nameContains().isEmpty()) {
                clauses.add("name LIKE ? ESCAPE '!'");
                values.add("%" + f.nameContains().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
            }
            if (!f.owner().isEmpty()) {
                clauses.add("owner = ?");
                values.add(f.owner());
            }
            return new Where(clauses.isEmpty() ? "" : " WHERE " + String.join(" AND ", clauses), values);
        }

        /** Binds the values from parameter 1 on; returns the next parameter's index. */
        int bind(PreparedStatement ps) throws SQLException {
            return bind(ps, 1);
        }

        /** Binds the values from parameter {@code first} on; returns the next parameter's index. */
        int bind(PreparedStatement ps, int first) throws SQLException {
            int i = first;
            for (String v : values) {
                ps.setString(i++, v);
            }
            return i;
        }
    }

    @Override
    public List<Batch> listUnfinished() {
        return batches(getAll(ids("SELECT id FROM batches WHERE state IN ('NOT_STARTED', 'STARTING', 'RUNNING') "
                + "ORDER BY id", ps -> { })));
    }

    @Override
    public BatchStamps stamps(int newerThan) {
        try (Connection c = dataSource.getConnection()) {
            Map<Integer, String> stamps = new java.util.HashMap<>();
            // Newest first: an id committed after the stamps were read is above it, so the next call sees it.
            int newest;
            try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(id), -1) FROM batches");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                newest = rs.getInt(1);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, state, app_id, spark_ui_url, driver_log_url "
                    + "FROM batches WHERE state IN ('NOT_STARTED', 'STARTING', 'RUNNING') OR id > ?")) {
                ps.setInt(1, newerThan);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        stamps.put(rs.getInt(1), rs.getString(2) + '\n' + rs.getString(3) + '\n' + rs.getString(4)
                                + '\n' + rs.getString(5));
                    }
                }
            }
            return new BatchStamps(stamps, newest);
        } catch (SQLException e) {
            throw failed("read batch stamps", e);
        }
    }

    @Override
    public void saveLogTail(int id, List<String> lines) {
        StringBuilder joined = new StringBuilder();
        lines.forEach(line -> joined.append(line).append('\n'));
        // A tail of a few huge lines is not worth a huge row: left unrecorded, it is read from the log file.
        String value = joined.length() <= MAX_LOG_TAIL_CHARS ? joined.toString() : null;
        update("UPDATE batches SET log_tail = ? WHERE id = ?", ps -> {
            ps.setString(1, value);
            ps.setInt(2, id);
        });
    }

    @Override
    public List<StateSummary> summary() {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT state, COUNT(*), MIN(created_time) FROM batches GROUP BY state");
             ResultSet rs = ps.executeQuery()) {
            List<StateSummary> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new StateSummary(BatchState.valueOf(rs.getString(1)), rs.getLong(2), getTime(rs, 3)));
            }
            return out;
        } catch (SQLException e) {
            throw failed("count batches", e);
        }
    }

    @Override
    public List<Integer> finishedBefore(Instant time) {
        return ids("SELECT id FROM batches WHERE finished_time < ? ORDER BY id", ps -> setTime(ps, 1, time));
    }

    @Override
    public void saveLaunch(int id, LaunchInfo launch) {
        update("UPDATE batches SET launch_pid = ?, launch_process_start = ? WHERE id = ?", ps -> {
            ps.setLong(1, launch.pid());
            ps.setLong(2, launch.processStart().toEpochMilli());
            ps.setInt(3, id);
        });
    }

    @Override
    public Optional<LaunchInfo> launch(int id) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT launch_pid, launch_process_start FROM batches WHERE id = ? AND launch_pid IS NOT NULL")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new LaunchInfo(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2))))
                        : Optional.empty();
            }
        } catch (SQLException e) {
            throw failed("read the launch of batch " + id, e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code WHERE lease_holder = ? AND lease_epoch = ?}, as every fenced write.
     */
    @Override
    public void saveLaunchStart(int id, LaunchStart start, Lease lease) {
        int updated = update("UPDATE batches SET launched_on = ?, launch_tag = ? WHERE id = ? AND lease_holder = ? "
                + "AND lease_epoch = ?", ps -> {
                    ps.setString(1, start.home());
                    ps.setString(2, start.tag().orElse(null));
                    ps.setInt(3, id);
                    ps.setString(4, lease.holder());
                    ps.setLong(5, lease.epoch());
                });
        if (updated == 0) {
            throw new LeaseLostException(lease);
        }
    }

    @Override
    public Optional<LaunchStart> launchStart(int id) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT launched_on, launch_tag FROM batches WHERE id = ? AND launched_on IS NOT NULL")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new LaunchStart(rs.getString(1), Optional.ofNullable(rs.getString(2))))
                                 : Optional.empty();
            }
        } catch (SQLException e) {
            throw failed("read the launch of batch " + id, e);
        }
    }

    @Override
    public void saveExitCode(int id, int exitCode) {
        update("UPDATE batches SET exit_code = ? WHERE id = ?", ps -> {
            ps.setInt(1, exitCode);
            ps.setInt(2, id);
        });
    }

    @Override
    public OptionalInt exitCode(int id) {
        List<Integer> codes = ids("SELECT exit_code FROM batches WHERE id = ? AND exit_code IS NOT NULL",
                ps -> ps.setInt(1, id));
        return codes.isEmpty() ? OptionalInt.empty() : OptionalInt.of(codes.get(0));
    }

    @Override
    public boolean delete(int id) {
        boolean deleted = update("DELETE FROM batches WHERE id = ?", ps -> ps.setInt(1, id)) > 0;
        if (deleted && idIndex != null) {
            idIndex.removed(id);
        }
        return deleted;
    }

    @Override
    public void close() {
        dataSource.close();
    }

    @Override
    public List<StoredBatch> getAll(List<Integer> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        List<StoredBatch> out = new ArrayList<>(ids.size());
        try (Connection c = dataSource.getConnection()) {
            // Pages are at most a few hundred; a longer list (the unfinished batches at start) goes in chunks.
            for (int i = 0; i < ids.size(); i += MAX_IDS_PER_QUERY) {
                load(c, ids.subList(i, Math.min(ids.size(), i + MAX_IDS_PER_QUERY)), out);
            }
        } catch (SQLException e) {
            throw failed("read batches", e);
        }
        return out;
    }

    /**
     * Rows and histories of {@code ids}, in two queries. Ids close together (a page of the list, even with a
     * few deleted between them) are read as the range from the lowest to the highest, the rows between that
     * were not asked for dropped here: one statement text for every page, and H2 walks its primary key over
     * the range, where {@code IN} with a hundred parameters costs it more than the rows themselves. Scattered
     * ids go by {@code IN}, whose text depends only on how many there are, so it is parsed once per size.
     */
    private static void load(Connection c, List<Integer> ids, List<StoredBatch> out) throws SQLException {
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        for (int id : ids) {
            min = Math.min(min, id);
            max = Math.max(max, id);
        }
        boolean range = (long) max - min < 2L * ids.size() + 16;
        Set<Integer> wanted = range ? new HashSet<>(ids) : null;
        String where = range ? " BETWEEN ? AND ?" : " IN (?" + ",?".repeat(ids.size() - 1) + ")";
        Map<Integer, Row> rows = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM batches WHERE id" + where)) {
            bindIds(ps, ids, range, min, max);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int id = rs.getInt(1);
                    if (wanted != null && !wanted.contains(id)) {
                        continue;
                    }
                    Row row = new Row(id, rs.getString(3), rs.getString(4), rs.getString(6),
                            rs.getString(7), rs.getString(8), getTime(rs, 9), rs.getString(10), new ArrayList<>());
                    rows.put(row.id, row);
                }
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT batch_id, state, entered_time, reason "
                + "FROM batch_state_changes WHERE batch_id" + where + " ORDER BY batch_id, seq")) {
            bindIds(ps, ids, range, min, max);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Row row = rows.get(rs.getInt(1));
                    if (row != null) {
                        row.history.add(new StateChange(BatchState.valueOf(rs.getString(2)), getTime(rs, 3),
                                rs.getString(4)));
                    }
                }
            }
        }
        for (Row r : rows.values()) {
            if (r.history.isEmpty()) {
                continue; // deleted between the two reads
            }
            Batch batch = new Batch(r.id, BatchRequestJson.read(r.request), r.owner, r.appId, r.sparkUiUrl,
                    r.driverLogUrl, r.history, r.createdTime);
            out.add(new StoredBatch(batch, Optional.ofNullable(r.logTail).map(JdbcBatchStore::lines)));
        }
    }

    /** Each line of a recorded tail ends with '\n'; '' is no line at all. */
    private static List<String> lines(String tail) {
        return tail.isEmpty() ? List.of() : List.of(tail.substring(0, tail.length() - 1).split("\n", -1));
    }

    private static void bindIds(PreparedStatement ps, List<Integer> ids, boolean range, int min, int max)
            throws SQLException {
        if (range) {
            ps.setInt(1, min);
            ps.setInt(2, max);
            return;
        }
        for (int i = 0; i < ids.size(); i++) {
            ps.setInt(i + 1, ids.get(i));
        }
    }

    private static List<Batch> batches(List<StoredBatch> stored) {
        return stored.stream().map(StoredBatch::batch).toList();
    }

    private List<Integer> ids(String sql, Binder binder) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            List<Integer> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getInt(1));
                }
            }
            return out;
        } catch (SQLException e) {
            throw failed("read batches", e);
        }
    }

    private int update(String sql, Binder binder) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw failed("write batches", e);
        }
    }

    /** Times are kept to the microsecond, PostgreSQL's precision, so both databases give back the same. */
    private static void setTime(PreparedStatement ps, int index, Instant time) throws SQLException {
        if (time == null) {
            ps.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(index, OffsetDateTime.ofInstant(time.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC));
        }
    }

    private static Instant getTime(ResultSet rs, int index) throws SQLException {
        return rs.getObject(index, OffsetDateTime.class).toInstant();
    }

    private static IllegalStateException failed(String what, SQLException e) {
        return new IllegalStateException("batch store: cannot " + what + ": " + e.getMessage(), e);
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private record Row(int id, String request, String owner, String appId, String sparkUiUrl, String driverLogUrl,
                       Instant createdTime, String logTail, List<StateChange> history) {}
}
