package io.sparkgate.server.values;

/** No batch has the given id (Livy: "Session 'N' not found."). */
public final class BatchNotFoundException extends DomainException {
    private final int id;

    public BatchNotFoundException(int id) {
        super("Session '" + id + "' not found.");
        this.id = id;
    }

    public int id() {
        return id;
    }
}
