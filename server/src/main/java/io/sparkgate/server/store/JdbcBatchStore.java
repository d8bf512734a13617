package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sparkgate.server.batch.Batch;
import io.sparkgate.server.batch.BatchFilter;
import io.sparkgate.server.batch.BatchState;
import io.sparkgate.server.batch.StateChange;
import io.sparkgate.server.launch.LaunchInfo;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
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
 * the same code that PostgreSQL needs.
 */
public final class JdbcBatchStore implements BatchStore {

    private static final Logger log = LoggerFactory.getLogger(JdbcBatchStore.class);

    /** SQLSTATE of a unique constraint violation, in H2 and PostgreSQL alike. */
    private static final String UNIQUE_VIOLATION = "23505";

    private static final String COLUMNS = "id, request_id, request, owner, state, app_id, spark_ui_url, "
            + "driver_log_url, created_time";

    private final HikariDataSource dataSource;
    private final BatchLeases leases;

    private JdbcBatchStore(HikariDataSource dataSource, boolean postgres) {
        this.dataSource = dataSource;
        this.leases = new BatchLeases(dataSource, postgres);
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
        return new JdbcBatchStore(ds, url.startsWith("jdbc:postgresql:"));
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
    public int insert(Batch batch, String requestId) {
        String sql = "INSERT INTO batches (request_id, request, owner, state, app_id, spark_ui_url, driver_log_url, "
                     + "created_time, finished_time, proxy_user, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
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
                c.commit();
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

    @Override
    public void save(Batch batch) {
        write(batch, null);
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

    private void write(Batch batch, Lease lease) {
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
        return query("SELECT " + COLUMNS + " FROM batches WHERE id = ?", id, id, ps -> ps.setInt(1, id))
                .stream().findFirst();
    }

    @Override
    public Optional<Batch> findByRequestId(String requestId) {
        if (requestId.isEmpty()) {
            return Optional.empty();
        }
        // The history is read by id range; an unknown id gives none, so look the id up first.
        Optional<Integer> id = ids("SELECT id FROM batches WHERE request_id = ?", ps -> ps.setString(1, requestId))
                .stream().findFirst();
        return id.flatMap(this::get);
    }

    @Override
    public List<Batch> list(int from, int size) {
        List<Integer> page = ids("SELECT id FROM batches ORDER BY id LIMIT ? OFFSET ?", ps -> {
            ps.setInt(1, size);
            ps.setInt(2, from);
        });
        if (page.isEmpty()) {
            return List.of();
        }
        int first = page.get(0);
        int last = page.get(page.size() - 1);
        return query("SELECT " + COLUMNS + " FROM batches WHERE id BETWEEN ? AND ? ORDER BY id", first, last, ps -> {
            ps.setInt(1, first);
            ps.setInt(2, last);
        });
    }

    @Override
    public int count() {
        return ids("SELECT COUNT(*) FROM batches", ps -> { }).get(0);
    }

    @Override
    public List<Batch> listOf(String user, int from, int size) {
        List<Integer> page = ids("SELECT id FROM batches WHERE owner = ? OR proxy_user = ? ORDER BY id LIMIT ? OFFSET ?",
                ps -> {
                    ps.setString(1, user);
                    ps.setString(2, user);
                    ps.setInt(3, size);
                    ps.setInt(4, from);
                });
        List<Batch> out = new ArrayList<>(page.size());
        for (int id : page) {
            get(id).ifPresent(out::add);
        }
        return out;
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
        Where where = Where.of(filter);
        List<Integer> page = ids("SELECT id FROM batches" + where.sql + " ORDER BY id"
                + (filter.newestFirst() ? " DESC" : "") + " LIMIT ? OFFSET ?", ps -> {
                    int next = where.bind(ps);
                    ps.setInt(next, size);
                    ps.setInt(next + 1, from);
                });
        if (page.isEmpty()) {
            return List.of();
        }
        Map<Integer, Batch> byId = byIds(page);
        List<Batch> out = new ArrayList<>(page.size());
        for (int id : page) {
            Batch b = byId.get(id);
            if (b != null) {
                out.add(b);
            }
        }
        return out;
    }

    /**
     * The batches with these ids (a filtered page, sparse in the id range), with their histories: two
     * queries whatever the page's size.
     */
    private Map<Integer, Batch> byIds(List<Integer> ids) {
        String in = " IN (" + String.join(", ", java.util.Collections.nCopies(ids.size(), "?")) + ")";
        Binder binder = ps -> {
            for (int i = 0; i < ids.size(); i++) {
                ps.setInt(i + 1, ids.get(i));
            }
        };
        try (Connection c = dataSource.getConnection()) {
            Map<Integer, Row> rows = new java.util.HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM batches WHERE id" + in)) {
                binder.bind(ps);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.put(rs.getInt(1), new Row(rs.getInt(1), rs.getString(3), rs.getString(4),
                                rs.getString(6), rs.getString(7), rs.getString(8), getTime(rs, 9), new ArrayList<>()));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT batch_id, state, entered_time, reason "
                    + "FROM batch_state_changes WHERE batch_id" + in + " ORDER BY batch_id, seq")) {
                binder.bind(ps);
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
            Map<Integer, Batch> out = new java.util.HashMap<>();
            for (Row r : rows.values()) {
                if (!r.history.isEmpty()) { // deleted between the two reads
                    out.put(r.id, new Batch(r.id, BatchRequestJson.read(r.request), r.owner, r.appId, r.sparkUiUrl,
                            r.driverLogUrl, r.history, r.createdTime));
                }
            }
            return out;
        } catch (SQLException e) {
            throw failed("read batches", e);
        }
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
            int i = 1;
            for (String v : values) {
                ps.setString(i++, v);
            }
            return i;
        }
    }

    @Override
    public List<Batch> listUnfinished() {
        List<Batch> out = new ArrayList<>();
        for (int id : ids("SELECT id FROM batches WHERE state IN ('NOT_STARTED', 'STARTING', 'RUNNING') ORDER BY id",
                ps -> { })) {
            get(id).ifPresent(out::add);
        }
        return out;
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
        return update("DELETE FROM batches WHERE id = ?", ps -> ps.setInt(1, id)) > 0;
    }

    @Override
    public void close() {
        dataSource.close();
    }

    /** Batches with ids in [first, last] that {@code sql} selects (with {@link #COLUMNS}), with their histories. */
    private List<Batch> query(String sql, int first, int last, Binder binder) {
        try (Connection c = dataSource.getConnection()) {
            Map<Integer, Row> rows = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                binder.bind(ps);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Row row = new Row(rs.getInt(1), rs.getString(3), rs.getString(4), rs.getString(6),
                                rs.getString(7), rs.getString(8), getTime(rs, 9), new ArrayList<>());
                        rows.put(row.id, row);
                    }
                }
            }
            if (rows.isEmpty()) {
                return List.of();
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT batch_id, state, entered_time, reason "
                    + "FROM batch_state_changes WHERE batch_id BETWEEN ? AND ? ORDER BY batch_id, seq")) {
                ps.setInt(1, first);
                ps.setInt(2, last);
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
            List<Batch> out = new ArrayList<>(rows.size());
            for (Row r : rows.values()) {
                out.add(new Batch(r.id, BatchRequestJson.read(r.request), r.owner, r.appId, r.sparkUiUrl,
                        r.driverLogUrl, r.history, r.createdTime));
            }
            return out;
        } catch (SQLException e) {
            throw failed("read batches", e);
        }
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
                       Instant createdTime, List<StateChange> history) {}
}
