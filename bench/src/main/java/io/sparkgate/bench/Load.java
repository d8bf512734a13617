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
    /** Warm when the last {@value #STABLE_WINDOWS} windows' req/s lie within this fraction of the highest. */
    private static final double STABLE = 0.10;
    /**
     * Windows that must agree. Two were too few: a JIT still compiling ramps slowly enough that two
     * neighbouring windows agree within 10% at half speed (seen: 2,827 then 3,123 req/s, then 4,021 measured
     * on a route the warm server answered at 10,000).
     */
    private static final int STABLE_WINDOWS = 3;

    /** One load window: its req/s. */
    interface Window {
        double requestsPerSecond() throws Exception;
    }

    /** What one figure loads: warmed up first, then measured in windows. */
    interface Target {
        /** Loads until warm (at most {@code maxSeconds}); returns a description for the report. */
        String warm(int maxSeconds) throws Exception;

        /** One measured window of {@code seconds}. */
        Result measure(int seconds) throws Exception;
    }

    /** {@code wrk -t1 -c<connections>} on {@code url}. */
    static Target rest(String url, int connections) {
        return new Target() {
            @Override
            public String warm(int maxSeconds) throws Exception {
                return warmUp(maxSeconds, () -> number(runWrk(url, connections, WARM_WINDOW_SECONDS), "Requests/sec:\\s+([0-9.]+)"));
            }

            @Override
            public Result measure(int seconds) throws Exception {
                return wrk(url, connections, 0, seconds);
            }
        };
    }

    /** {@code connections} gRPC channels with one {@code call} in flight each. */
    static Target grpc(int port, int connections, Call call) {
        return new Target() {
            @Override
            public String warm(int maxSeconds) throws Exception {
                return warmUp(maxSeconds, () -> grpcWindow(port, connections, 0, WARM_WINDOW_SECONDS, call).requestsPerSecond());
            }

            @Override
            public Result measure(int seconds) throws Exception {
                return grpcWindow(port, connections, 0, seconds, call);
            }
        };
    }

    /**
     * The median of each figure over several windows (req/s, p50 and p99 each on its own): one window
     * that a neighbour on the shared machine slowed down does not decide the figure.
     */
    static Result median(List<Result> windows) {
        int n = windows.size();
        double[] rps = windows.stream().mapToDouble(Result::requestsPerSecond).sorted().toArray();
        long[] p50 = windows.stream().mapToLong(Result::p50Micros).sorted().toArray();
        long[] p99 = windows.stream().mapToLong(Result::p99Micros).sorted().toArray();
        long errors = windows.stream().mapToLong(Result::errors).sum();
        String detail = windows.stream().map(w -> String.format(Locale.ROOT, "%,.0f", w.requestsPerSecond()))
                .collect(java.util.stream.Collectors.joining(", ", "windows [", "] req/s"));
        return new Result(rps[n / 2], p50[n / 2], p99[n / 2], errors, detail);
    }

    /**
     * Loads in {@value #WARM_WINDOW_SECONDS}-second windows until throughput is stable (the last
     * {@value #STABLE_WINDOWS} windows within 10%) or {@code maxSeconds} have passed: JIT warm-up, whose
     * length depends on the machine's load, not a fixed time. Returns a description for the report.
     */
    static String warmUp(int maxSeconds, Window window) throws Exception {
        List<Long> rates = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
        boolean stable = false;
        while (System.nanoTime() < deadline) {
            rates.add(Math.round(window.requestsPerSecond()));
            if (rates.size() >= STABLE_WINDOWS) {
                List<Long> last = rates.subList(rates.size() - STABLE_WINDOWS, rates.size());
                long max = java.util.Collections.max(last);
                if (max > 0 && max - java.util.Collections.min(last) < STABLE * max) {
                    stable = true;
                    break;
                }
            }
        }
        return (stable ? "stable" : "NOT stable") + " after " + rates.size() * WARM_WINDOW_SECONDS + " s " + rates;
    }

    /** {@code wrk -t1 -c<connections>} warmed up until stable (at most {@code maxWarmupSeconds}), then measured with {@code --latency}. */
    static Result wrk(String url, int connections, int maxWarmupSeconds, int seconds) throws Exception {
        String warm = maxWarmupSeconds <= 0 ? "no warm-up" : warmUp(maxWarmupSeconds,
                () -> number(runWrk(url, connections, WARM_WINDOW_SECONDS), "Requests/sec:\\s+([0-9.]+)"));
        return parse(runWrk(url, connections, seconds), warm);
    }

    /** As {@link #wrk(String, int, int, int)}, each request made by the wrk Lua {@code script} instead of {@code url} itself. */
    static Result wrk(String url, java.nio.file.Path script, int connections, int maxWarmupSeconds, int seconds) throws Exception {
        List<String> options = List.of("-t1", "-s", script.toString());
        String warm = maxWarmupSeconds <= 0 ? "no warm-up" : warmUp(maxWarmupSeconds,
                () -> number(runWrk(options, url, connections, WARM_WINDOW_SECONDS), "Requests/sec:\\s+([0-9.]+)"));
        return parse(runWrk(options, url, connections, seconds), warm);
    }

    /**
     * {@code path} on several servers at once from one wrk: {@code threads} threads, {@code connections}
     * in all, thread i connected to {@code ports[i % n]} (a Lua {@code setup} sets each thread's address),
     * so wrk merges the latency of every server into one histogram. {@code threads} should be a multiple
     * of the servers for an even spread. No warm-up.
     */
    static Result wrkSpread(List<Integer> ports, String path, int threads, int connections, int seconds, java.nio.file.Path script)
            throws Exception {
        java.nio.file.Files.writeString(script, String.join("\n",
                "-- bench: thread i of wrk goes to server i mod n (all on 127.0.0.1)",
                "local ports = {" + ports.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + "}",
                "local addrs = {}",
                "local n = 0",
                "function setup(thread)",
                "  if #addrs == 0 then",
                "    for _, p in ipairs(ports) do table.insert(addrs, wrk.lookup(\"127.0.0.1\", tostring(p))[1]) end",
                "  end",
                "  thread.addr = addrs[(n % #addrs) + 1]",
                "  n = n + 1",
                "end", ""));
        String url = "http://127.0.0.1:" + ports.get(0) + path;
        String out = runWrk(List.of("-t" + threads, "-s", script.toString()), url, connections, seconds);
        return parse(out, "no warm-up");
    }

    private static Result parse(String out, String warm) {
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
        return runWrk(List.of("-t1"), url, connections, seconds);
    }

    private static String runWrk(List<String> options, String url, int connections, int seconds)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("wrk"));
        cmd.addAll(options);
        cmd.addAll(List.of("-c" + connections, "-d" + seconds + "s", "--timeout", "5s", "--latency", url));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
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
     * One window of {@code seconds}: {@code connections} channels (one TCP connection each, like wrk's),
     * each with one call in flight, issuing the next call as the last one completes; calls completed
     * inside the window count.
     */
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
