package io.sparkgate.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the run measured, rendered as BENCHMARKS.md: per section a table of figures (absolute values,
 * the same-run baseline and their ratio, the target and whether it is met), plus notes; and the lists
 * of missed targets and errors, which also decide the exit code.
 */
final class Report {

    /** One figure. {@code met} is null when the figure has no target. */
    record Row(String figure, String value, String baseline, String ratio, String target, Boolean met) {}

    private final Map<String, List<Row>> sections = new LinkedHashMap<>();
    private final Map<String, List<String>> notes = new LinkedHashMap<>();
    private final List<String> missed = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();

    synchronized void section(String title) {
        sections.computeIfAbsent(title, k -> new ArrayList<>());
        notes.computeIfAbsent(title, k -> new ArrayList<>());
    }

    synchronized void row(String section, Row row) {
        section(section);
        sections.get(section).add(row);
        if (Boolean.FALSE.equals(row.met())) {
            missed.add(section + ": " + row.figure() + " = " + row.value()
                       + (row.ratio().isEmpty() ? "" : " (ratio " + row.ratio() + ")") + ", target " + row.target());
        }
        System.out.printf("[bench] %s | %s | %s | %s | %s | %s | %s%n", section, row.figure(), row.value(),
                row.baseline(), row.ratio(), row.target(), metText(row.met()));
    }

    synchronized void note(String section, String text) {
        section(section);
        notes.get(section).add(text);
        System.out.println("[bench] note (" + section + "): " + text);
    }

    synchronized void error(String section, String text) {
        errors.add(section + ": " + text);
        System.out.println("[bench] ERROR (" + section + "): " + text);
    }

    synchronized List<String> missed() {
        return List.copyOf(missed);
    }

    synchronized List<String> errors() {
        return List.copyOf(errors);
    }

    private static String metText(Boolean met) {
        return met == null ? "" : met ? "met" : "**MISSED**";
    }

    synchronized String markdown(List<String> header) {
        StringBuilder md = new StringBuilder();
        md.append("# Sparkgate benchmarks\n\n");
        header.forEach(h -> md.append(h).append('\n'));
        md.append('\n');
        md.append("## Summary\n\n");
        if (errors.isEmpty() && missed.isEmpty()) {
            md.append("Every phase ran and every target was met.\n\n");
        }
        if (!errors.isEmpty()) {
            md.append("**Errors (the run exits non-zero):**\n\n");
            errors.forEach(e -> md.append("- ").append(e).append('\n'));
            md.append('\n');
        }
        if (!missed.isEmpty()) {
            md.append("**Missed targets:**\n\n");
            missed.forEach(m -> md.append("- ").append(m).append('\n'));
            md.append('\n');
        }
        for (Map.Entry<String, List<Row>> s : sections.entrySet()) {
            md.append("## ").append(s.getKey()).append("\n\n");
            if (!s.getValue().isEmpty()) {
                md.append("| figure | value | baseline (same run) | ratio | target | met? |\n");
                md.append("|---|---|---|---|---|---|\n");
                for (Row r : s.getValue()) {
                    md.append("| ").append(r.figure()).append(" | ").append(r.value()).append(" | ")
                            .append(r.baseline()).append(" | ").append(r.ratio()).append(" | ")
                            .append(r.target()).append(" | ").append(metText(r.met())).append(" |\n");
                }
                md.append('\n');
            }
            for (String n : notes.getOrDefault(s.getKey(), List.of())) {
                md.append("- ").append(n).append('\n');
            }
            md.append('\n');
        }
        return md.toString();
    }
}
