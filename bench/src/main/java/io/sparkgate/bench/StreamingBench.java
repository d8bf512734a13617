package io.sparkgate.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.StreamBatchLogResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * Issue 3's benchmark: an application prints timestamped lines ({@code NumberedLines n 20 0 --timestamps},
 * each line ending in {@code t=<epoch micros>} when written); 1, 50 and 200 followers over gRPC
 * ({@code StreamBatchLog}) and over SSE ({@code GET /batches/{id}/log/stream}) record receive time − t.
 * Beside them, in the same run, a Livy-style poller ({@code GET /batches/{id}/log?from=N&size=1000}
 * every second, Airflow's style). Server CPU is the server process's utime+stime over each run.
 */
final class StreamingBench {

    static final String SECTION = "1. Log streaming latency";
    private static final int DELAY_MILLIS = 20;
    private static final int[] FOLLOWERS = {1, 50, 200};
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Bench.Settings settings;
    private final Report report;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private ServerProcess server;
    private BatchServiceGrpc.BatchServiceBlockingStub stub;

    StreamingBench(Bench.Settings settings, Report report) {
        this.settings = settings;
        this.report = report;
    }

    void run() throws Exception {
        int lines = settings.quick() ? 100 : 300;
        report.section(SECTION);
        Path data = settings.work().resolve("streaming-data");
        try (ServerProcess s = ServerProcess.startSparkgate("streaming", settings.repo(), ServerProcess.freePort(), data,
                null, settings.work().resolve("server-streaming.log"))) {
            server = s;
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", s.port()).usePlaintext().build();
            try {
                stub = BatchServiceGrpc.newBlockingStub(channel);
                // Warm-up, discarded: JIT of both stream paths with many followers (a 1-follower warm-up left
                // the first 50-follower gRPC run seconds slower than the 200-follower one), and the page cache
                // of spark-submit's jars.
                Run warmGrpc = follow("grpc", 50, settings.quick() ? 50 : 100);
                Run warmSse = follow("sse", 50, settings.quick() ? 50 : 100);
                System.out.printf("[bench] warm-up: grpc p99 %s, sse p99 %s%n", Samples.ms(warmGrpc.latency.percentile(0.99)),
                        Samples.ms(warmSse.latency.percentile(0.99)));

                Run poll = poll(lines);
                check(poll, lines);
                String pollText = "p50 " + Samples.ms(poll.latency.percentile(0.5)) + ", p99 "
                                  + Samples.ms(poll.latency.percentile(0.99));
                report.row(SECTION, new Report.Row("Livy-style poller: `GET /batches/{id}/log?from=N&size=1000` every 1 s, 1 poller",
                        pollText + "; server CPU " + Bench.pct(poll.cpuPercent) + " of a core", "(the baseline)", "", "", null));
                for (String protocol : List.of("grpc", "sse")) {
                    for (int n : FOLLOWERS) {
                        Run r = follow(protocol, n, lines);
                        check(r, lines);
                        long p99 = r.latency.percentile(0.99);
                        String figure = (protocol.equals("grpc") ? "gRPC `StreamBatchLog`" : "SSE `GET /batches/{id}/log/stream`")
                                        + ", " + n + (n == 1 ? " follower" : " followers");
                        report.row(SECTION, new Report.Row(figure,
                                "p50 " + Samples.ms(r.latency.percentile(0.5)) + ", p99 " + Samples.ms(p99)
                                + ", max " + Samples.ms(r.latency.max()) + "; server CPU " + Bench.pct(r.cpuPercent) + " of a core",
                                pollText,
                                "p99 " + Bench.ratio((double) p99 / poll.latency.percentile(0.99)) + "× the poller's",
                                n == 200 ? "p99 < 50 ms" : "",
                                n == 200 ? p99 >= 0 && p99 < 50_000 : null));
                    }
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        report.note(SECTION, "Each run: one batch of `NumberedLines " + lines + " " + DELAY_MILLIS + " 0 --timestamps` (real "
                + "spark-submit, embedded Spark home); its line i ends with `t=<epoch µs>` taken when it was written. "
                + "Latency = receive time in the follower (bench JVM, same machine clock) − t, over every line of every follower "
                + "written after that follower attached (followers attach while spark-submit starts, so that is all of them).");
        report.note(SECTION, "Before the table's runs, one warm-up run per protocol with 50 followers is discarded. Followers: one gRPC channel (own TCP connection) per gRPC follower, async stub, direct executor; "
                + "one HTTP/1.1 connection per SSE follower (java.net.http). Every follower must see every line once, in order, "
                + "and the final state `success`, or the phase errors.");
        report.note(SECTION, "Server CPU = Δ(utime+stime) of the server process from /proc/PID/stat over the run (create → last "
                + "follower done), as % of one core; it includes the server's own work for the batch (launch, the 10 ms log tailer). "
                + "The followers and the poller run in the bench JVM on the same 2 cores: at 200 followers the client side competes "
                + "with the server for CPU, which counts against the measured latency.");
        report.note(SECTION, "Poller: Airflow's style, every 1 s `GET /log?from=<lines so far>&size=1000` and `GET /state`, "
                + "until the state is final and the log is drained; a line's latency is the receive time of the poll that returned it − t.");
    }

    private void check(Run r, int lines) {
        if (!r.errors.isEmpty()) {
            throw new IllegalStateException(r.protocol + " x" + r.followers + ": " + r.errors.size() + " follower(s) failed, e.g. "
                                            + r.errors.get(0));
        }
        if (r.latency.count() == 0) {
            throw new IllegalStateException(r.protocol + " x" + r.followers + ": no line measured");
        }
        if (r.excluded > 0) {
            report.note(SECTION, r.protocol + " x" + r.followers + ": " + r.excluded + " line receipts not counted (written "
                                 + "before their follower attached)");
        }
    }

    private int createBatch(int lines) {
        return stub.createBatch(CreateBatchRequest.newBuilder()
                .setFile(settings.examplesJar().toString())
                .setClassName("io.sparkgate.examples.NumberedLines")
                .addArgs(Integer.toString(lines)).addArgs(Integer.toString(DELAY_MILLIS)).addArgs("0").addArgs("--timestamps")
                .build()).getId();
    }

    /** What one (protocol, followers) run measured. */
    private static final class Run {
        final String protocol;
        final int followers;
        final Samples latency = new Samples();
        final List<String> errors = new ArrayList<>();
        long excluded;
        double cpuPercent;

        Run(String protocol, int followers) {
            this.protocol = protocol;
            this.followers = followers;
        }
    }

    /** One follower's view: lines in order, latencies, how it ended. */
    private static final class Follower {
        final int expectedLines;
        final long attachMicros = Bench.nowMicros();
        final Samples latency = new Samples();
        final CountDownLatch done = new CountDownLatch(1);
        long next;
        long appLines;
        long excluded;
        volatile String finalState;
        volatile String error;

        Follower(int expectedLines) {
            this.expectedLines = expectedLines;
        }

        synchronized void line(long offset, String text, long nowMicros) {
            if (offset != next && error == null) {
                error = "line offset " + offset + " where " + next + " was expected";
            }
            next = offset + 1;
            long t = timestamp(text);
            if (t < 0) {
                return; // spark-submit's own lines (JVM warnings, Spark's shutdown hook)
            }
            if (!text.startsWith("line " + appLines + " ") && error == null) {
                error = "app line " + appLines + " expected, got '" + text + "'";
            }
            appLines++;
            if (t < attachMicros) {
                excluded++;
            } else {
                latency.add(nowMicros - t);
            }
        }

        void ended(String state, String failure) {
            finalState = state;
            if (failure != null && error == null) {
                error = failure;
            }
            done.countDown();
        }

        String problem() {
            if (error != null) {
                return error;
            }
            if (appLines != expectedLines) {
                return "saw " + appLines + " of the app's " + expectedLines + " lines";
            }
            if (!"success".equals(finalState)) {
                return "ended with state " + finalState;
            }
            return null;
        }
    }

    static long timestamp(String text) {
        int i = text.lastIndexOf(" t=");
        if (i < 0) {
            return -1;
        }
        int end = i + 3;
        while (end < text.length() && Character.isDigit(text.charAt(end))) {
            end++;
        }
        return end > i + 3 ? Long.parseLong(text.substring(i + 3, end)) : -1;
    }

    private Run follow(String protocol, int followers, int lines) throws Exception {
        Run run = new Run(protocol, followers);
        long cpu0 = server.cpuTicks();
        long t0 = System.nanoTime();
        int id = createBatch(lines);
        List<Follower> all = new ArrayList<>();
        List<ManagedChannel> channels = new ArrayList<>();
        try {
            for (int i = 0; i < followers; i++) {
                Follower f = new Follower(lines);
                all.add(f);
                if (protocol.equals("grpc")) {
                    channels.add(followGrpc(id, f));
                } else {
                    followSse(id, f);
                }
            }
            long waitSeconds = lines * DELAY_MILLIS / 1000 + 90;
            for (Follower f : all) {
                if (!f.done.await(waitSeconds, TimeUnit.SECONDS)) {
                    f.error = "not done after " + waitSeconds + " s";
                }
            }
            long wallNanos = System.nanoTime() - t0;
            run.cpuPercent = 100.0 * (server.cpuTicks() - cpu0) / settings.clockTicksPerSecond()
                             / (wallNanos / 1e9);
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
        for (Follower f : all) {
            run.latency.addAll(f.latency);
            run.excluded += f.excluded;
            String problem = f.problem();
            if (problem != null) {
                run.errors.add(problem);
            }
        }
        System.out.printf(Locale.ROOT, "[bench] %s x%d: batch %d, %d samples, p50 %s p99 %s, cpu %.0f%%, %d errors%n",
                protocol, followers, id, run.latency.count(), Samples.ms(run.latency.percentile(0.5)),
                Samples.ms(run.latency.percentile(0.99)), run.cpuPercent, run.errors.size());
        return run;
    }

    private ManagedChannel followGrpc(int id, Follower f) {
        ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
                .directExecutor().build();
        BatchServiceGrpc.newStub(ch).streamBatchLog(StreamBatchLogRequest.newBuilder().setId(id).setFrom(0).build(),
                new StreamObserver<>() {
                    private String state;

                    @Override
                    public void onNext(StreamBatchLogResponse r) {
                        if (r.hasLine()) {
                            f.line(r.getLine().getOffset(), r.getLine().getText(), Bench.nowMicros());
                        } else if (r.hasFinalState()) {
                            state = stateName(r.getFinalState());
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        f.ended(state, "gRPC error: " + t);
                    }

                    @Override
                    public void onCompleted() {
                        f.ended(state, null);
                    }
                });
        return ch;
    }

    private void followSse(int id, Follower f) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches/" + id + "/log/stream"))
                .header("Accept", "text/event-stream").build();
        Flow.Subscriber<String> lines = new Flow.Subscriber<>() {
            private long id = -1;
            private boolean endEvent;
            private String state;

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(String line) {
                long now = Bench.nowMicros();
                if (line.startsWith("id: ")) {
                    id = Long.parseLong(line.substring(4).trim());
                } else if (line.startsWith("event: end")) {
                    endEvent = true;
                } else if (line.startsWith("data: ")) {
                    String data = line.substring(6);
                    if (endEvent) {
                        try {
                            state = JSON.readTree(data).path("state").asText(null);
                        } catch (java.io.IOException e) {
                            state = "unparseable end event: " + data;
                        }
                    } else {
                        f.line(id, data, now);
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                f.ended(state, "SSE error: " + t);
            }

            @Override
            public void onComplete() {
                f.ended(state, endEvent ? null : "stream closed without an end event");
            }
        };
        CompletableFuture<HttpResponse<Void>> res = http.sendAsync(req, HttpResponse.BodyHandlers.fromLineSubscriber(lines));
        res.whenComplete((r, err) -> {
            if (err != null) {
                f.ended(null, "SSE request failed: " + err);
            } else if (r.statusCode() != 200) {
                f.ended(null, "SSE status " + r.statusCode());
            }
        });
    }

    private Run poll(int lines) throws Exception {
        Run run = new Run("poll", 1);
        long cpu0 = server.cpuTicks();
        long t0 = System.nanoTime();
        int id = createBatch(lines);
        Follower f = new Follower(lines);
        long deadline = t0 + TimeUnit.SECONDS.toNanos(lines * DELAY_MILLIS / 1000 + 90);
        String state = "";
        for (long tick = 0; ; tick++) {
            long due = t0 + TimeUnit.SECONDS.toNanos(tick);
            long sleep = due - System.nanoTime();
            if (sleep > 0) {
                TimeUnit.NANOSECONDS.sleep(sleep);
            }
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(
                    server.baseUrl() + "/batches/" + id + "/log?from=" + f.next + "&size=1000")).build(),
                    HttpResponse.BodyHandlers.ofString());
            long now = Bench.nowMicros();
            if (page.statusCode() != 200) {
                throw new IllegalStateException("GET /log answered " + page.statusCode() + ": " + page.body());
            }
            JsonNode body = JSON.readTree(page.body());
            long from = body.path("from").asLong(f.next);
            int i = 0;
            for (JsonNode line : body.path("log")) {
                f.line(from + i++, line.asText(), now);
            }
            long total = body.path("total").asLong();
            state = stateName(stub.getBatchState(GetBatchStateRequest.newBuilder().setId(id).build()).getState());
            if (isFinal(state) && f.next >= total) {
                break;
            }
            if (System.nanoTime() > deadline) {
                f.error = "poller not done by its deadline";
                break;
            }
        }
        f.ended(state, null);
        run.cpuPercent = 100.0 * (server.cpuTicks() - cpu0) / settings.clockTicksPerSecond()
                         / ((System.nanoTime() - t0) / 1e9);
        run.latency.addAll(f.latency);
        run.excluded = f.excluded;
        String problem = f.problem();
        if (problem != null) {
            run.errors.add(problem);
        }
        System.out.printf(Locale.ROOT, "[bench] poller: batch %d, %d samples, p50 %s p99 %s, cpu %.0f%%%n", id,
                run.latency.count(), Samples.ms(run.latency.percentile(0.5)), Samples.ms(run.latency.percentile(0.99)),
                run.cpuPercent);
        return run;
    }

    static String stateName(BatchState s) {
        return s.name().substring("BATCH_STATE_".length()).toLowerCase(Locale.ROOT);
    }

    static boolean isFinal(String state) {
        return state.equals("success") || state.equals("dead") || state.equals("killed");
    }
}
