package io.sparkgate.server.logs;

import java.util.List;

/**
 * Lines {@code from} .. {@code from + lines.size() - 1} of a batch's log, and how many lines it had
 * when they were read.
 */
public record LogPage(long from, long total, List<String> lines) {
    public LogPage {
        lines = List.copyOf(lines);
    }
}
