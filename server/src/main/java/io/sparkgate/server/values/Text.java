package io.sparkgate.server.values;

/**
 * The server's own words, spelled once: the prefix of the lines it writes into batch logs, the prefix of
 * the YARN tags it gives applications, and how a value too long to show whole is cut.
 */
public final class Text {

    /** Prefix of the log lines Sparkgate writes itself into a batch's log. */
    public static final String NOTICE = "[sparkgate] ";
    /**
     * Prefix of the YARN tags the server gives batches' applications ({@code sparkgate-batch-<id>-<random>}),
     * by which the tracker finds them; a request may not use it.
     */
    public static final String TAG_PREFIX = "sparkgate-";
    /** The most characters of a client's value an error message quotes. */
    public static final int SHOWN_MAX = 200;

    private Text() {}

    /** A client's value as an error message shows it: never the whole of a huge one. */
    public static String shown(String value) {
        return abbreviate(value, SHOWN_MAX);
    }

    /** {@code text} cut to {@code max} characters, saying how long it was when cut. */
    public static String abbreviate(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max) + "... (" + text.length() + " characters)";
    }
}
