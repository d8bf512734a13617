package io.sparkgate.client.cli;

/** Exit statuses of the {@code sparkgate} command, for scripts. */
public final class ExitCodes {
    /** Done; for a followed batch: it ended in {@code success}. */
    public static final int OK = 0;
    /** A followed batch ended {@code dead}. */
    public static final int DEAD = 1;
    /** Bad command line (picocli's usage error). */
    public static final int USAGE = 2;
    /** A followed batch ended {@code killed}. */
    public static final int KILLED = 3;
    /** The server cannot be reached. */
    public static final int UNREACHABLE = 4;
    /** The server refused the request (unknown id, bad input, ...). */
    public static final int REJECTED = 5;

    private ExitCodes() {}
}
