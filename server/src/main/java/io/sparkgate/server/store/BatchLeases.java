package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.AdmissionSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Leases on live batches in the batch database, for several servers (replicas) sharing it: claim,
 * renew, release, and the kill requests any replica may record for the holder to act on. Writes to a
 * held batch's state go through {@link BatchStore#save(io.sparkgate.server.values.Batch, Lease)}, fenced
 * by the lease.
 *
 * <p>Every expiry is computed and compared by the database ({@code CURRENT_TIMESTAMP}), so replicas'
 * clocks never matter; every claim increases the batch's epoch, so a replica that paused past its
 * lease and wakes up finds its fenced writes refused even if it claims again later. On PostgreSQL a
 * claim skips rows another replica is claiming at that moment ({@code FOR UPDATE SKIP LOCKED}, the
 * queue-table idiom PostgreSQL documents), so scanning replicas spread the free batches between them
 * instead of queueing on the same rows; each statement reports its rows with {@code RETURNING}. H2
 * serves one server only (its file is locked by that server), so there a claim is the same guarded
 * {@code UPDATE} without row skipping, and results are read with H2's {@code FINAL TABLE}.
 *
 * <p>Stateless apart from the pool: any thread may call any method.
 */
public final class BatchLeases {

    /** Batch states a lease is held in; a final batch is held by no one. */
    private static final String LIVE = "state IN ('NOT_STARTED', 'STARTING', 'RUNNING')";
    /** Free to claim: held by no one, or its lease ran out by the database's clock. */
    private static final String FREE = "(lease_holder IS NULL OR lease_expires < CURRENT_TIMESTAMP)";
    private static final String EXPIRY = "CURRENT_TIMESTAMP + ? * INTERVAL '0.001' SECOND";
    private static final String HELD_COLUMNS = "id, lease_epoch, state, kill_requested";

    private final DataSource dataSource;
    private final boolean postgres;

    BatchLeases(DataSource dataSource, boolean postgres) {
        this.dataSource = requireNonNull(dataSource, "dataSource");
        this.postgres = postgres;
    }

    /**
     * A batch as its holder sees it at a claim or renewal.
     *
     * @param lease the hold
     * @param state the batch's stored state (a {@code BatchState} name)
     * @param killRequested whether a DELETE asked for it to be killed
     */
    public record Held(Lease lease, String state, boolean killRequested) {}

    /**
     * Claims up to {@code max} live batches that nobody holds or whose lease has run out and that were
     * never launched, lowest id first, for {@code holder} for {@code ttl}: what a replica takes as far as
     * it has room to start them.
     */
    public List<Held> claimFree(String holder, int max, Duration ttl) {
        return claimFree(holder, max, ttl, "launched_on IS NULL");
    }

    /**
     * Claims up to {@code max} live batches that nobody holds or whose lease has run out and that were
     * launched (a lost replica's): they need no room to start, they were admitted, so a replica takes
     * them over all at once rather than a few per scan.
     */
    public List<Held> claimFreeLaunched(String holder, int max, Duration ttl) {
        return claimFree(holder, max, ttl, "launched_on IS NOT NULL");
    }

    private List<Held> claimFree(String holder, int max, Duration ttl, String which) {
        if (max <= 0) {
            return List.of();
        }
        String set = "UPDATE batches SET lease_holder = ?, lease_epoch = lease_epoch + 1, lease_expires = " + EXPIRY;
        String sql = postgres
                ? set + " WHERE id IN (SELECT id FROM batches WHERE " + LIVE + " AND " + FREE + " AND " + which
                  + " ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING " + HELD_COLUMNS
                : "SELECT " + HELD_COLUMNS + " FROM FINAL TABLE (" + set + " WHERE id IN (SELECT id FROM batches WHERE "
                  + LIVE + " AND " + FREE + " AND " + which + " ORDER BY id LIMIT ?) AND " + LIVE + " AND " + FREE + ")";
        return held(sql, holder, ps -> {
            ps.setString(1, holder);
            ps.setLong(2, ttl.toMillis());
            ps.setInt(3, max);
        });
    }

    /** Claims one live batch for {@code holder} if nobody holds it or its lease ran out. */
    public Optional<Held> claim(int id, String holder, Duration ttl) {
        String update = "UPDATE batches SET lease_holder = ?, lease_epoch = lease_epoch + 1, lease_expires = " + EXPIRY
                        + " WHERE id = ? AND " + LIVE + " AND " + FREE;
        return held(returning(update), holder, ps -> {
            ps.setString(1, holder);
            ps.setLong(2, ttl.toMillis());
            ps.setInt(3, id);
        }).stream().findFirst();
    }

    /**
     * Claims, whatever their leases, the live local-mode batches launched from {@code home} (this host
     * and data directory): their drivers are children of a server process on this home, which a server
     * starting here again replaces; only it can find them (by pid), so it takes them back at once
     * instead of waiting for a lease a dead process will never renew.
     */
    public List<Held> reclaimHome(String home, String holder, Duration ttl) {
        String update = "UPDATE batches SET lease_holder = ?, lease_epoch = lease_epoch + 1, lease_expires = " + EXPIRY
                        + " WHERE launched_on = ? AND launch_tag IS NULL AND " + LIVE;
        return held(returning(update), holder, ps -> {
            ps.setString(1, holder);
            ps.setLong(2, ttl.toMillis());
            ps.setString(3, home);
        });
    }

    /**
     * Renews every lease {@code holder} has, in one statement, for {@code ttl} from now (the database's
     * now), and returns them: a batch the caller thinks it holds but that is not among them (or is under
     * another epoch) was claimed by another replica meanwhile and must be let go. A lease that ran out
     * but that nobody claimed yet is renewed too: nobody else can have written under it.
     */
    public List<Held> renew(String holder, Duration ttl) {
        String update = "UPDATE batches SET lease_expires = " + EXPIRY + " WHERE lease_holder = ?";
        return held(returning(update), holder, ps -> {
            ps.setLong(1, ttl.toMillis());
            ps.setString(2, holder);
        });
    }

    /**
     * How long until the first live lease of a replica other than {@code holder} runs out (the
     * database's clock, both ends), among those not run out yet; empty when there is none. One query: a
     * replica asks it at each renewal, to scan for that replica's batches just after they become free
     * rather than at its next fixed scan.
     */
    public Optional<Duration> nextExpiryOfOthers(String holder) {
        String sql = "SELECT MIN(lease_expires), CURRENT_TIMESTAMP FROM batches WHERE " + LIVE
                     + " AND lease_holder IS NOT NULL AND lease_holder <> ? AND lease_expires >= CURRENT_TIMESTAMP";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, holder);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                OffsetDateTime next = rs.getObject(1, OffsetDateTime.class);
                OffsetDateTime now = rs.getObject(2, OffsetDateTime.class);
                return next == null ? Optional.empty() : Optional.of(Duration.between(now, next));
            }
        } catch (SQLException e) {
            throw failed("read the next expiry of the other replicas' leases", e);
        }
    }

    /**
     * What the replicas other than {@code holder} have admitted now (one query): launched batches under
     * a live lease of theirs, and the waiting batches not held by {@code holder}.
     */
    public ReplicaLoad loadOfOthers(String holder) {
        // An admitted batch holds its places from its admission, before its state says starting.
        String sql = "SELECT owner, CASE WHEN state = 'NOT_STARTED' AND admitted THEN 'STARTING' ELSE state END AS s, "
                + "COUNT(*) FROM batches WHERE " + LIVE + " AND (((state <> 'NOT_STARTED' OR admitted) "
                + "AND lease_holder IS NOT NULL AND lease_holder <> ? AND lease_expires >= CURRENT_TIMESTAMP) "
                + "OR (state = 'NOT_STARTED' AND NOT admitted AND (lease_holder IS NULL OR lease_holder <> ? "
                + "OR lease_expires < CURRENT_TIMESTAMP))) GROUP BY owner, s";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, holder);
            ps.setString(2, holder);
            int starting = 0;
            int launched = 0;
            int waiting = 0;
            java.util.Map<String, Integer> startingByUser = new java.util.HashMap<>();
            java.util.Map<String, Integer> launchedByUser = new java.util.HashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String user = rs.getString(1);
                    String state = rs.getString(2);
                    int n = rs.getInt(3);
                    if (state.equals("NOT_STARTED")) {
                        waiting += n;
                        continue;
                    }
                    launched += n;
                    launchedByUser.merge(user, n, Integer::sum);
                    if (state.equals("STARTING")) {
                        starting += n;
                        startingByUser.merge(user, n, Integer::sum);
                    }
                }
            }
            return new ReplicaLoad(starting, launched, startingByUser, launchedByUser, waiting);
        } catch (SQLException e) {
            throw failed("count the other replicas' batches", e);
        }
    }

    /**
     * What {@link #admit} decided.
     *
     * @param reason when not admitted, what the batch waits for
     */
    public record Admission(boolean admitted, String reason) {}

    /** Key of the one PostgreSQL advisory lock that every replica's admission takes ("sparkadm"). */
    private static final long ADMISSION_LOCK = 0x737061726b61646dL;

    /**
     * Admits a held batch to launch if the limits, counted over every replica's admitted live batches,
     * leave room: it then holds its place (running, and starting until it runs) until it is final.
     * Exact across replicas: the count and the mark are one transaction under one database lock, so
     * two replicas never both take the last place. Cheap: one lock, one grouped count over the live
     * batches, one update; the lock is held for those statements only. A batch admitted already (its
     * earlier holder admitted it) is admitted again at once.
     *
     * @param user the batch's owner, for the per-user limits
     * @throws LeaseLostException when {@code lease} no longer holds the batch: nothing was written
     */
    public Admission admit(Lease lease, String user, AdmissionSettings limits) {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                Admission decided = admit(c, lease, user, limits);
                if (decided.admitted()) {
                    c.commit();
                } else {
                    c.rollback();
                }
                return decided;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw failed("admit batch " + lease.batchId(), e);
        }
    }

    private Admission admit(Connection c, Lease lease, String user, AdmissionSettings limits) throws SQLException {
        if (postgres) {
            // Released at the transaction's end. H2 serves one server, whose own queue decides alone.
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                ps.setLong(1, ADMISSION_LOCK);
                ps.executeQuery().close();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT admitted FROM batches WHERE id = ? AND lease_holder = ? "
                + "AND lease_epoch = ? AND " + LIVE)) {
            ps.setInt(1, lease.batchId());
            ps.setString(2, lease.holder());
            ps.setLong(3, lease.epoch());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new LeaseLostException(lease);
                }
                if (rs.getBoolean(1)) {
                    return new Admission(true, "");
                }
            }
        }
        int launched = 0;
        int starting = 0;
        int userLaunched = 0;
        int userStarting = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), "
                + "SUM(CASE WHEN state <> 'RUNNING' THEN 1 ELSE 0 END), "
                + "SUM(CASE WHEN owner = ? THEN 1 ELSE 0 END), "
                + "SUM(CASE WHEN owner = ? AND state <> 'RUNNING' THEN 1 ELSE 0 END) "
                + "FROM batches WHERE admitted AND " + LIVE)) {
            ps.setString(1, user);
            ps.setString(2, user);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                launched = rs.getInt(1); // SUM over no rows is NULL: getInt reads it as 0
                starting = rs.getInt(2);
                userLaunched = rs.getInt(3);
                userStarting = rs.getInt(4);
            }
        }
        String who = user.isEmpty() ? "the anonymous user" : "user " + user;
        if (limits.maxRunningPerUser() > 0 && userLaunched >= limits.maxRunningPerUser()) {
            return waits(who + " has " + batches(userLaunched) + " running (limit " + limits.maxRunningPerUser() + ")");
        }
        if (limits.maxRunning() > 0 && launched >= limits.maxRunning()) {
            return waits(batches(launched) + " running (limit " + limits.maxRunning() + ")");
        }
        if (limits.maxStartingPerUser() > 0 && userStarting >= limits.maxStartingPerUser()) {
            return waits(who + " has " + batches(userStarting) + " starting (limit " + limits.maxStartingPerUser() + ")");
        }
        if (starting >= limits.maxStarting()) {
            return waits(batches(starting) + " starting (limit " + limits.maxStarting() + ")");
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET admitted = TRUE WHERE id = ?")) {
            ps.setInt(1, lease.batchId());
            ps.executeUpdate();
        }
        return new Admission(true, "");
    }

    private static Admission waits(String what) {
        return new Admission(false, "waiting: " + what + " across the replicas");
    }

    private static String batches(int n) {
        return n == 1 ? "1 batch" : n + " batches";
    }

    /** Lets the batch go, if the lease still holds; another replica may claim it at once. */
    public boolean release(Lease lease) {
        return update("UPDATE batches SET lease_holder = NULL, lease_expires = NULL "
                      + "WHERE id = ? AND lease_holder = ? AND lease_epoch = ?", ps -> {
            ps.setInt(1, lease.batchId());
            ps.setString(2, lease.holder());
            ps.setLong(3, lease.epoch());
        }) > 0;
    }

    /** Marks the batch to be killed by its holder; false when there is no such batch. */
    public boolean requestKill(int id) {
        return update("UPDATE batches SET kill_requested = TRUE WHERE id = ?", ps -> ps.setInt(1, id)) > 0;
    }

    /** The replica holding the batch now (by the database's clock), if any. */
    public Optional<Lease> holder(int id) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT lease_holder, lease_epoch FROM batches "
                     + "WHERE id = ? AND lease_holder IS NOT NULL AND lease_expires >= CURRENT_TIMESTAMP")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Lease(id, rs.getString(1), rs.getLong(2))) : Optional.empty();
            }
        } catch (SQLException e) {
            throw failed("read the lease of batch " + id, e);
        }
    }

    /** {@code update} reporting the rows it changed ({@link #HELD_COLUMNS}), in each database's syntax. */
    private String returning(String update) {
        return postgres ? update + " RETURNING " + HELD_COLUMNS
                        : "SELECT " + HELD_COLUMNS + " FROM FINAL TABLE (" + update + ")";
    }

    private List<Held> held(String sql, String holder, Binder binder) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            List<Held> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Held(new Lease(rs.getInt(1), holder, rs.getLong(2)), rs.getString(3), rs.getBoolean(4)));
                }
            }
            out.sort(java.util.Comparator.comparingInt(h -> h.lease().batchId()));
            return out;
        } catch (SQLException e) {
            throw failed("claim or renew leases", e);
        }
    }

    private int update(String sql, Binder binder) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw failed("write leases", e);
        }
    }

    private static IllegalStateException failed(String what, SQLException e) {
        return new IllegalStateException("batch store: cannot " + what + ": " + e.getMessage(), e);
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }
}
