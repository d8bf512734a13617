package io.sparkgate.bench;

import java.util.Arrays;

/** Latency samples in microseconds, recorded from any thread; percentiles by sorting at the end. */
final class Samples {

    private long[] values = new long[1024];
    private int size;

    synchronized void add(long micros) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = micros;
    }

    synchronized void addAll(Samples other) {
        long[] copy = other.snapshot();
        for (long v : copy) {
            add(v);
        }
    }

    synchronized int count() {
        return size;
    }

    synchronized long[] snapshot() {
        return Arrays.copyOf(values, size);
    }

    /** The value at quantile {@code q} (0..1) by the nearest-rank method; -1 when empty. */
    synchronized long percentile(double q) {
        if (size == 0) {
            return -1;
        }
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * size);
        return sorted[Math.max(0, Math.min(size - 1, rank - 1))];
    }

    synchronized long max() {
        long m = -1;
        for (int i = 0; i < size; i++) {
            m = Math.max(m, values[i]);
        }
        return m;
    }

    /** Milliseconds with one decimal, for the table; "–" when there is no sample. */
    static String ms(long micros) {
        return micros < 0 ? "–" : String.format(java.util.Locale.ROOT, "%.1f ms", micros / 1000.0);
    }
}
