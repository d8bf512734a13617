package io.sparkgate.server.batch;

/** No batch has the given id (Livy: "Session 'N' not found."). */
public final class BatchNotFoundException extends RuntimeException {
    private final int id;

    public BatchNotFoundException(int id) {
        super("Session '" + id + "' not found.");
        this.id = id;
    }

    public int id() {
        return id;
    }
}
