package db.sparkgate;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Version 40: on H2, a second index on the batch id, for the embedded store's id index
 * ({@code io.sparkgate.server.store.IdIndex}), which reads every id once per server process. H2 keeps a
 * table's rows in its integer primary key, so walking that key decodes every row whole (request, log
 * tail: a 100,000-batch store is a quarter of a gigabyte); this index holds the ids alone, and a scan of it
 * reads nothing else. PostgreSQL's primary key is such an index already (an index-only scan), so there
 * this migration does nothing: a Java migration because the two databases differ here.
 */
public class V40__batch_id_index extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        if (!"H2".equals(c.getMetaData().getDatabaseProductName())) {
            return;
        }
        try (Statement st = c.createStatement()) {
            st.execute("CREATE INDEX batches_id ON batches (id)");
        }
    }
}
