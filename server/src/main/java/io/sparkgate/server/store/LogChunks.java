package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The copy of live batches' logs in the database that replicas share: the holder of a batch appends
 * its new lines in chunks (fenced by its lease, so a replica that lost the batch cannot interleave
 * lines with the new holder's), every replica reads pages of them under the same offsets as the
 * holder's own log. With the lines, the holder keeps the launcher's small files (how far a YARN
 * driver log was read), so that the next holder goes on from the last line copied.
 *
 * <p>Stateless apart from the pool: any thread may call any method.
 */
public final class LogChunks {

    private final DataSource dataSource;

    LogChunks(DataSource dataSource) {
        this.dataSource = requireNonNull(dataSource, "dataSource");
    }

    /**
     * Lines {@code from} .. of a batch's copied log and how many lines it has.
     *
     * @param total every line copied so far
     * @param lines the lines asked for (fewer at the end)
     */
    public record Page(long total, List<String> lines) {}

    /**
     * Appends lines {@code firstLine ..} of the batch's log, and the launcher's files when given, in one
     * transaction, while {@code lease} holds the batch.
     *
     * @throws LeaseLostException when another replica claimed it since; nothing is written
     */
    public void append(Lease lease, long firstLine, List<String> lines, Optional<String> launchFiles) {
        StringBuilder joined = new StringBuilder();
        // PostgreSQL's text takes no NUL: the one character a log line may not keep.
        lines.forEach(l -> joined.append(l.replace('\u0000', '\ufffd')).append('\n'));
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET launch_files = COALESCE(?, launch_files) "
                        + "WHERE id = ? AND lease_holder = ? AND lease_epoch = ?")) {
                    ps.setString(1, launchFiles.orElse(null));
                    ps.setInt(2, lease.batchId());
                    ps.setString(3, lease.holder());
                    ps.setLong(4, lease.epoch());
                    // The row stays locked to the commit: a claim by another replica waits for it.
                    if (ps.executeUpdate() == 0) {
                        c.rollback();
                        throw new LeaseLostException(lease);
                    }
                }
                if (!lines.isEmpty()) {
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO batch_log_chunks (batch_id, first_line, line_count, lines) VALUES (?, ?, ?, ?)")) {
                        ps.setInt(1, lease.batchId());
                        ps.setLong(2, firstLine);
                        ps.setInt(3, lines.size());
                        ps.setString(4, joined.toString());
                        ps.executeUpdate();
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("batch store: cannot copy log lines of batch " + lease.batchId() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Up to {@code size} lines from {@code from} ({@code size < 0}: all), in one round trip. */
    public Page read(int batchId, long from, long size) {
        long end = size < 0 ? Long.MAX_VALUE : from + size;
        String sql = "SELECT first_line, lines, (SELECT COALESCE(MAX(first_line + line_count), 0) FROM batch_log_chunks "
                + "WHERE batch_id = ?) FROM batch_log_chunks WHERE batch_id = ? AND first_line + line_count > ? "
                + "AND first_line < ? ORDER BY first_line";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setInt(1, batchId);
            ps.setInt(2, batchId);
            ps.setLong(3, from);
            ps.setLong(4, end);
            List<String> out = new ArrayList<>();
            long total = -1;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long first = rs.getLong(1);
                    String[] lines = rs.getString(2).split("\n", -1);
                    total = rs.getLong(3);
                    for (int i = 0; i < lines.length - 1; i++) { // the last is empty: every line ends with \n
                        long n = first + i;
                        if (n >= from && n < end) {
                            out.add(lines[i]);
                        }
                    }
                }
            }
            return new Page(total >= 0 ? total : total(batchId), out);
        } catch (SQLException e) {
            throw new IllegalStateException("batch store: cannot read the log of batch " + batchId + ": "
                    + e.getMessage(), e);
        }
    }

    /** Lines copied so far. */
    public long total(int batchId) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT COALESCE(MAX(first_line + line_count), 0) FROM batch_log_chunks WHERE batch_id = ?")) {
            ps.setInt(1, batchId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("batch store: cannot read the log of batch " + batchId + ": "
                    + e.getMessage(), e);
        }
    }

    /** The launcher's files as the last chunk left them. */
    public Optional<String> launchFiles(int batchId) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT launch_files FROM batches WHERE id = ?")) {
            ps.setInt(1, batchId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("batch store: cannot read batch " + batchId + ": " + e.getMessage(), e);
        }
    }
}
