package io.sparkgate.server.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL (binaries from a Maven Central jar) for the lease tests of this JVM, started on
 * first use and stopped when the JVM exits: starting one costs seconds, a new database in it
 * milliseconds.
 */
public final class TestPostgres {

    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static EmbeddedPostgres postgres;

    private TestPostgres() {}

    private static synchronized EmbeddedPostgres server() {
        if (postgres == null) {
            try {
                postgres = EmbeddedPostgres.builder().start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            EmbeddedPostgres started = postgres;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException e) {
                    // the JVM is going away; the temporary cluster goes with it
                }
            }));
        }
        return postgres;
    }

    /** A store on a new, empty database. */
    public static JdbcBatchStore newStore() {
        return JdbcBatchStore.open(newDatabase(), USER, USER);
    }

    /** The JDBC URL of a new, empty database, for server processes to share (user and password {@value #USER}). */
    public static String newDatabase() {
        String name = "leases_" + DATABASES.incrementAndGet();
        try (Connection c = server().getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return server().getJdbcUrl(USER, name);
    }

    /** The database user and password. */
    public static final String USER = "postgres";
}
