package io.sparkgate.bench;

import io.sparkgate.server.store.JdbcBatchStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * The scale phase's history beyond what real launches can make in the bench's time: copies of one
 * finished batch that a real launch made (row, state history, recorded log tail), written in SQL straight
 * into a stopped server's store. 100,000 real launches at the stand-in's ~30 per second would take the
 * better part of an hour, and even the store's own insert path (a transaction per batch and one per log
 * tail) takes minutes here. The copies differ from the original only in id (and in having no request id);
 * what they lack is a log file on disk: their {@code GET /batches/{id}/log} is empty, while everything a
 * list page, a batch and its state show comes from the store as for any finished batch.
 *
 * <p>Run in its own JVM on the server's classpath ({@code sparkgate-server.jar} and its {@code lib/}), with
 * the server stopped (H2 allows one process per file): {@code StoreSeeder DATA_DIR TEMPLATE_ID TOTAL}
 * copies batch {@code TEMPLATE_ID} until the store holds {@code TOTAL} batches. H2 only (SYSTEM_RANGE).
 */
public final class StoreSeeder {

    /** Copies per statement and per commit. */
    private static final int CHUNK = 5_000;
    /** The columns a copy takes from the original; all the others keep their defaults. */
    private static final String COLUMNS = "request, owner, state, app_id, spark_ui_url, driver_log_url, created_time, "
            + "finished_time, exit_code, proxy_user, name, log_tail";

    private StoreSeeder() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        int template = Integer.parseInt(args[1]);
        int total = Integer.parseInt(args[2]);
        long t0 = System.nanoTime();
        int added = 0;
        try (Connection c = DriverManager.getConnection(JdbcBatchStore.embeddedUrl(dataDir), "sparkgate", "")) {
            c.setAutoCommit(false);
            int have = count(c);
            while (have < total) {
                int n = Math.min(CHUNK, total - have);
                int maxBefore = maxId(c);
                try (PreparedStatement rows = c.prepareStatement("INSERT INTO batches (" + COLUMNS + ") SELECT "
                        + COLUMNS + " FROM batches CROSS JOIN SYSTEM_RANGE(1, ?) WHERE id = ? ORDER BY X");
                     PreparedStatement history = c.prepareStatement("INSERT INTO batch_state_changes "
                        + "(batch_id, seq, state, entered_time, reason) SELECT b.id, h.seq, h.state, h.entered_time, "
                        + "h.reason FROM batches b CROSS JOIN batch_state_changes h WHERE b.id > ? AND h.batch_id = ?")) {
                    rows.setInt(1, n);
                    rows.setInt(2, template);
                    if (rows.executeUpdate() != n) {
                        throw new IllegalStateException("batch " + template + " to copy is not in the store");
                    }
                    history.setInt(1, maxBefore);
                    history.setInt(2, template);
                    history.executeUpdate();
                }
                c.commit();
                have += n;
                added += n;
            }
            System.out.printf("[seed] %d copies of batch %d added to the store in %.1f s; %d stored%n",
                    added, template, (System.nanoTime() - t0) / 1e9, count(c));
        }
    }

    private static int count(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM batches")) {
            r.next();
            return r.getInt(1);
        }
    }

    private static int maxId(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT COALESCE(MAX(id), -1) FROM batches")) {
            r.next();
            return r.getInt(1);
        }
    }
}
