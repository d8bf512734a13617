package db.sparkgate;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Version 4: the batch's name in a column of its own, for the list's name filter
 * ({@code ListBatchesRequest.name}). A Java migration because the name of the batches recorded before it
 * is only in the request JSON, which SQL cannot read portably across H2 and PostgreSQL: each is copied
 * over here once, so a filter finds old batches too.
 */
public class V4__batch_name extends BaseJavaMigration {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (Statement st = c.createStatement()) {
            st.execute("ALTER TABLE batches ADD COLUMN name VARCHAR DEFAULT '' NOT NULL");
        }
        try (Statement select = c.createStatement();
             ResultSet rs = select.executeQuery("SELECT id, request FROM batches");
             PreparedStatement update = c.prepareStatement("UPDATE batches SET name = ? WHERE id = ?")) {
            while (rs.next()) {
                String name = JSON.readTree(rs.getString(2)).path("name").asText("");
                if (!name.isEmpty()) {
                    update.setString(1, name);
                    update.setInt(2, rs.getInt(1));
                    update.addBatch();
                }
            }
            update.executeBatch();
        }
    }
}
