package io.sparkgate.server.store;

/**
 * The embedded H2 database is open in another server process (H2 locks its file). Two servers share
 * batches only through PostgreSQL, which the message says.
 */
public final class StoreInUseException extends IllegalStateException {

    StoreInUseException(String url, Throwable cause) {
        super("the embedded database " + url + " is in use by another server; several servers (replicas) need a "
              + "shared PostgreSQL database (sparkgate.store.url = jdbc:postgresql://...)", cause);
    }
}
