package io.sparkgate.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.sparkgate.api.v1.BatchServiceGrpc;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Closed-loop load at a fixed concurrency: REST through wrk, gRPC through async stubs. Warm-up first, discarded. */
final class Load {

    /** Throughput and latency of one measured window. */
    record Result(double requestsPerSecond, long p50Micros, long p99Micros, long errors, String detail) {
        String text() {
            return String.format(Locale.ROOT, "%,.0f req/s, p50 %s, p99 %s", requestsPerSecond, Samples.ms(p50Micros),
                    Samples.ms(p99Micros));
        }
    }

    private Load() {
    }

    /** Seconds of one warm-up window. */
    static final int WARM_WINDOW_SECONDS = 3;
    /** Warm when two windows in a row differ by less than this fraction of req/s. */
    private static final double STABLE = 0.10;

    /** One load window: its req/s. */
    interface Window {
        double requestsPerSecond() throws Exception;
    }

    /**
     * Loads in {@value #WARM_WINDOW_SECONDS}-second windows until throughput is stable (two windows in a
     * row within 10%) or {@code maxSeconds} have passed: JIT warm-up, whose length depends on the
     * machine's load, not a fixed time. Returns a description for the report.
     */
    static String warmUp(int maxSeconds, Window window) throws Exception {
        List<Long> rates = new ArrayList<>();
        double last = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
        boolean stable = false;
        while (System.nanoTime() < deadline) {
            double rps = window.requestsPerSecond();
            rates.add(Math.round(rps));
            if (last > 0 && Math.abs(rps - last) < STABLE * Math.max(rps, last)) {
                stable = true;
                break;
            }
            last = rps;
        }
        return (stable ? "stable" : "NOT stable") + " after " + rates.size() * WARM_WINDOW_SECONDS + " s " + rates;
    }

    /** {@code wrk -t1 -c<connections>} warmed up until stable (at most {@code maxWarmupSeconds}), then measured with {@code --latency}. */
    static Result wrk(String url, int connections, int maxWarmupSeconds, int seconds) throws Exception {
        String warm = maxWarmupSeconds <= 0 ? "no warm-up" : warmUp(maxWarmupSeconds,
                () -> number(runWrk(url, connections, WARM_WINDOW_SECONDS), "Requests/sec:\\s+([0-9.]+)"));
        String out = runWrk(url, connections, seconds);
        double rps = number(out, "Requests/sec:\\s+([0-9.]+)");
        long p50 = micros(out, "\\s50%\\s+([0-9.]+)(us|ms|s|m)");
        long p99 = micros(out, "\\s99%\\s+([0-9.]+)(us|ms|s|m)");
        long non2xx = (long) numberOr(out, "Non-2xx or 3xx responses:\\s+(\\d+)", 0);
        Matcher sock = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(out);
        long socketErrors = 0;
        if (sock.find()) {
            for (int g = 1; g <= 4; g++) {
                socketErrors += Long.parseLong(sock.group(g));
            }
        }
        return new Result(rps, p50, p99, non2xx + socketErrors, out.lines().filter(l -> l.contains("requests in"))
                .findFirst().orElse("").trim() + "; warm-up " + warm);
    }

    private static String runWrk(String url, int connections, int seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--timeout", "5s", "--latency", url)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("wrk failed on " + url + ": " + out);
        }
        return out;
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("wrk output has no /" + regex + "/:\n" + text);
        }
        return Double.parseDouble(m.group(1));
    }

    private static double numberOr(String text, String regex, double otherwise) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : otherwise;
    }

    private static long micros(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("wrk output has no /" + regex + "/:\n" + text);
        }
        double v = Double.parseDouble(m.group(1));
        return Math.round(switch (m.group(2)) {
            case "us" -> v;
            case "ms" -> v * 1_000;
            case "s" -> v * 1_000_000;
            default -> v * 60_000_000;
        });
    }

    /** One asynchronous unary call: must call exactly one of the two callbacks. */
    interface Call {
        void start(BatchServiceGrpc.BatchServiceStub stub, Runnable ok, Consumer<Throwable> failed);
    }

    static <T> StreamObserver<T> observer(Runnable ok, Consumer<Throwable> failed) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
            }

            @Override
            public void onError(Throwable t) {
                failed.accept(t);
            }

            @Override
            public void onCompleted() {
                ok.run();
            }
        };
    }

    /**
     * {@code connections} channels (one TCP connection each, like wrk's), each with one call in
     * flight, issuing the next call as the last one completes; calls completed inside the measured
     * window count.
     */
    static Result grpc(int port, int connections, int maxWarmupSeconds, int seconds, Call call) throws Exception {
        String warm = maxWarmupSeconds <= 0 ? "no warm-up" : warmUp(maxWarmupSeconds,
                () -> grpcWindow(port, connections, 0, WARM_WINDOW_SECONDS, call).requestsPerSecond());
        Result r = grpcWindow(port, connections, 0, seconds, call);
        return new Result(r.requestsPerSecond(), r.p50Micros(), r.p99Micros(), r.errors(),
                r.detail() + (r.detail().isEmpty() ? "" : "; ") + "warm-up " + warm);
    }

    private static Result grpcWindow(int port, int connections, int warmupSeconds, int seconds, Call call)
            throws InterruptedException {
        List<ManagedChannel> channels = new ArrayList<>();
        Samples latency = new Samples();
        AtomicLong errors = new AtomicLong();
        AtomicLong done = new AtomicLong();
        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
        long measureTo = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(connections);
        StringBuilder firstError = new StringBuilder();
        try {
            for (int i = 0; i < connections; i++) {
                ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor().build();
                channels.add(ch);
                BatchServiceGrpc.BatchServiceStub stub = BatchServiceGrpc.newStub(ch);
                new Object() {
                    void next() {
                        long t0 = System.nanoTime();
                        if (t0 >= measureTo) {
                            stopped.countDown();
                            return;
                        }
                        call.start(stub, () -> {
                            long t1 = System.nanoTime();
                            if (t0 >= measureFrom && t1 <= measureTo) {
                                latency.add((t1 - t0) / 1000);
                                done.incrementAndGet();
                            }
                            next();
                        }, t -> {
                            if (errors.incrementAndGet() == 1) {
                                synchronized (firstError) {
                                    firstError.append(t);
                                }
                            }
                            next();
                        });
                    }
                }.next();
            }
            if (!stopped.await(warmupSeconds + seconds + 30L, TimeUnit.SECONDS)) {
                throw new IllegalStateException("gRPC load did not stop");
            }
        } finally {
            for (ManagedChannel ch : channels) {
                ch.shutdownNow();
            }
        }
        return new Result(done.get() / (double) seconds, latency.percentile(0.5), latency.percentile(0.99), errors.get(),
                firstError.toString());
    }
}
