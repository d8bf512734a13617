package io.sparkgate.server.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/** A Prometheus text scrape, read as Prometheus reads it: one sample per line, {@code name{labels} value}. */
record Scrape(String text) {

    /** The value of the sample whose name and labels are exactly {@code series}, e.g. {@code x_total{a="b"}}. */
    OptionalDouble value(String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            if (space > 0 && sameSeries(line.substring(0, space), series)) {
                return OptionalDouble.of(Double.parseDouble(line.substring(space + 1)));
            }
        }
        return OptionalDouble.empty();
    }

    /** The value of {@code series}; 0 when the series is absent. */
    double valueOr0(String series) {
        return value(series).orElse(0);
    }

    /** Every sample line whose series starts with {@code prefix}. */
    List<String> lines(String prefix) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                out.add(line);
            }
        }
        return out;
    }

    /** Label order is not fixed by the format: compare the name and the set of labels. */
    private static boolean sameSeries(String a, String b) {
        return normalise(a).equals(normalise(b));
    }

    private static String normalise(String series) {
        int brace = series.indexOf('{');
        if (brace < 0) {
            return series;
        }
        String name = series.substring(0, brace);
        String labels = series.substring(brace + 1, series.length() - 1);
        List<String> parts = new ArrayList<>(List.of(labels.split(",(?=[a-zA-Z_]+=\")")));
        parts.removeIf(String::isEmpty);
        parts.sort(null);
        return name + "{" + String.join(",", parts) + "}";
    }
}
