package io.sparkgate.server.values;

/** No batch has the given id or name (Livy: "Session 'N' not found."). */
public final class BatchNotFoundException extends DomainException {
    private final int id;

    public BatchNotFoundException(int id) {
        super("Session '" + id + "' not found.");
        this.id = id;
    }

    /** No batch has this name (on REST a path segment that is no number names a batch). */
    public BatchNotFoundException(String name) {
        super("Session '" + (name.length() <= 100 ? name : name.substring(0, 100) + "...") + "' not found.");
        this.id = -1;
    }

    /** The id asked for; -1 when a name was. */
    public int id() {
        return id;
    }
}
