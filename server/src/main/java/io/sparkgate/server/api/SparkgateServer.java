package io.sparkgate.server.api;

import com.linecorp.armeria.common.util.ThreadFactories;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.grpc.GrpcMeterIdPrefixFunction;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.grpc.GrpcHealthCheckService;
import com.linecorp.armeria.server.healthcheck.HealthCheckService;
import com.linecorp.armeria.server.metric.MetricCollectingService;
import com.linecorp.armeria.server.prometheus.PrometheusExpositionService;
import io.sparkgate.server.BuildInfo;
import io.sparkgate.server.metrics.BatchCounters;
import io.sparkgate.server.metrics.BatchGauges;
import io.sparkgate.server.metrics.LogStreamMetrics;
import io.sparkgate.server.metrics.ServerMetrics;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.docs.DocService;
import com.linecorp.armeria.server.docs.DocServiceFilter;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.grpc.GrpcServiceBuilder;
import com.linecorp.armeria.server.grpc.UnframedGrpcErrorHandler;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.server.grpc.HttpJsonTranscodingOptions;
import com.linecorp.armeria.server.grpc.HttpJsonTranscodingQueryParamMatchRule;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.server.batch.BatchJanitor;
import io.sparkgate.server.batch.BatchManager;
import io.sparkgate.server.batch.BatchRecovery;
import io.sparkgate.server.batch.Takeover;
import io.sparkgate.server.store.BatchLeases;
import io.sparkgate.server.config.SparkgateConfig;
import io.sparkgate.server.launch.Launcher;
import io.sparkgate.server.launch.SparkSubmitLauncher;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.logs.LogTailer;
import java.time.Duration;
import java.util.Optional;
import io.sparkgate.server.security.AccessPolicy;
import io.sparkgate.server.security.Authentication;
import io.sparkgate.server.security.CsrfProtection;
import io.sparkgate.server.security.ServerTls;
import io.sparkgate.server.security.SubmissionPolicy;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.JdbcBatchStore;
import io.sparkgate.server.yarn.YarnLauncher;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Sparkgate: the batch machinery and the one Armeria server in front of it. {@code Main}
 * and the tests start it the same way, through {@link #start}.
 *
 * <p>Over 300 lines because it is the wiring: every part is made, connected and closed here, in the
 * order that start-up, recovery and drain need, which is easiest to check when it is all on one page.
 */
public final class SparkgateServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SparkgateServer.class);

    /** How often a followed application's output is indexed: the floor of log-follow latency. */
    private static final Duration TAIL_INTERVAL = Duration.ofMillis(10);
    /** How often running applications' output is indexed while nobody follows one live. */
    private static final Duration TAIL_IDLE_INTERVAL = Duration.ofMillis(100);
    /** Whether {@link #prepare} has run in this JVM. */
    private static final AtomicBoolean PREPARING = new AtomicBoolean();
    /**
     * Threads for the handlers' blocking work (store, log files). Armeria's default, 200, only adds
     * threads waiting for one of the store's few connections, and each costs memory; most reads are
     * answered from the batch layer's cache without blocking at all.
     */
    private static final int BLOCKING_THREADS = Math.max(16, 4 * Runtime.getRuntime().availableProcessors());
    /** How often deadlines and retention are checked: the precision of both. */
    private static final Duration JANITOR_INTERVAL = Duration.ofSeconds(1);

    private final Server server;
    private final BatchManager manager;
    private final ServerMetrics metrics;
    private final Readiness readiness;
    private final Drain drain;
    private final SparkgateConfig config;
    private final LogTailer tailer;
    private final LogStore logs;
    private final BatchStore store;
    private final ScheduledExecutorService scheduler;
    private final Launcher launcher;

    private SparkgateServer(Server server, BatchManager manager, LogTailer tailer, LogStore logs,
                            BatchStore store, ScheduledExecutorService scheduler, Launcher launcher,
                            ServerMetrics metrics, Readiness readiness, Drain drain, SparkgateConfig config) {
        this.server = server;
        this.metrics = metrics;
        this.readiness = readiness;
        this.drain = drain;
        this.config = config;
        this.manager = manager;
        this.tailer = tailer;
        this.logs = logs;
        this.store = store;
        this.scheduler = scheduler;
        this.launcher = launcher;
    }

    /**
     * Starts, on a side thread, the slowest class initialisation a start needs, one that depends on nothing:
     * Armeria's transcoding and docs, whose JSON marshallers of gRPC's error details ByteBuddy makes then
     * (0.6 s of one thread, in a class-load log of a start). {@code Main} calls this before it parses the
     * command line, so that it overlaps with everything up to the services' configuration instead of
     * lying on the start's path; once is enough, and {@link #start} calls it too.
     */
    public static void prepare() {
        if (!PREPARING.compareAndSet(false, true)) {
            return;
        }
        Thread preparing = new Thread(() -> {
            try {
                HttpJsonTranscodingOptions.builder();
                DocService.builder();
            } catch (Throwable t) {
                // The start meets the same failure where it needs these, and reports it there.
            }
        }, "sparkgate-prepare");
        preparing.setDaemon(true);
        preparing.start();
    }

    /** Builds everything from {@code config} and starts listening; returns once the port is bound. */
    public static SparkgateServer start(SparkgateConfig config) {
        requireNonNull(config, "config");
        prepare();
        // Credential and certificate files first: a bad one stops the start before anything is opened.
        Authentication auth = Authentication.from(config.auth());
        // Opening the database (H2's file, Flyway's migrations) and loading the server's own machinery take
        // about as long as each other, so they run side by side: start-up is the longer of the two, not both.
        CompletableFuture<BatchStore> opening = new CompletableFuture<>();
        Thread opener = new Thread(() -> {
            try {
                opening.complete(openStore(config));
            } catch (Throwable t) {
                opening.completeExceptionally(t);
            }
        }, "sparkgate-store-open");
        opener.setDaemon(true);
        opener.start();
        // Prometheus registry and JVM meters: also while the store opens.
        ServerMetrics metrics = new ServerMetrics(BuildInfo.current());
        BatchStore store;
        ServerBuilder sb;
        ScheduledExecutorService scheduler;
        LogStore logs;
        LogTailer tailer;
        Launcher launcher;
        try {
            sb = Server.builder();
            sb.blockingTaskExecutor(BLOCKING_THREADS);
            ServerTls.configure(sb, new InetSocketAddress(config.host(), config.port()), config.auth());
            scheduler = Executors.newSingleThreadScheduledExecutor(ThreadFactories.newThreadFactory("sparkgate-scheduler", true));
            logs = new LogStore(config.dataDir().resolve("batches"));
            tailer = new LogTailer(logs, TAIL_INTERVAL, TAIL_IDLE_INTERVAL);
            launcher = config.onYarn()
                    ? YarnLauncher.start(config, scheduler, metrics::timed)
                    : new SparkSubmitLauncher(config, scheduler);
        } catch (RuntimeException | Error e) {
            opening.thenAccept(BatchStore::close); // the store is nobody's: close it once it is open
            metrics.close();
            throw e;
        }
        try {
            store = metrics.timed(opening.join());
        } catch (CompletionException e) {
            // Nothing of this start may outlive it.
            if (launcher instanceof YarnLauncher yarn) {
                yarn.close();
            }
            tailer.close();
            scheduler.shutdownNow();
            logs.close();
            metrics.close();
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // as if opened here: callers catch the store's own exceptions
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
        BatchCounters counters = new BatchCounters(metrics.registry());
        new BatchGauges(store, metrics.registry(), Clock.systemUTC());
        if (launcher instanceof YarnLauncher yarn) {
            io.micrometer.core.instrument.Gauge.builder("sparkgate.yarn.applications.tracked", yarn,
                    YarnLauncher::applicationsTracked)
                    .description("YARN applications this server follows (a replica: those of the batches it holds)")
                    .register(metrics.registry());
        }
        BatchManager manager = new BatchManager(store, logs, tailer, launcher, config.admission(),
                Clock.systemUTC(), counters);
        Readiness readiness = new Readiness(store);
        // Before serving: no client may see a batch that nobody tracks. With replicas (a shared
        // PostgreSQL), the unfinished batches are not all this server's: it takes back its own local
        // drivers now, and its lease keeper claims the rest of what nobody holds as they come free.
        Optional<BatchLeases> leases = store.replicaLeases();
        if (leases.isPresent()) {
            Takeover.start(manager, store, leases.get(), logs, config.replicas(), home(config));
        } else {
            new BatchRecovery(manager, store, logs, launcher).recover();
        }
        readiness.recoveryFinished();
        BatchJanitor janitor = new BatchJanitor(manager, store, config.deadlines(), Clock.systemUTC());
        scheduler.scheduleWithFixedDelay(janitor::sweep, 0, JANITOR_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        Drain drain = new Drain();
        configureServices(sb, manager, config, auth, new Operations(metrics, counters, readiness, drain));
        Server server = sb.build();
        server.start().join();
        log.info("Sparkgate listening on {}://{}:{} (REST /batches, gRPC sparkgate.v1.BatchService, docs /docs); "
                 + "Spark home {}, master {}", config.auth().tls().isPresent() ? "https" : "http", config.host(),
                 server.activeLocalPort(), config.sparkHome(), config.sparkMaster());
        auth.logStart(config.host(), config.auth().tls().isPresent());
        return new SparkgateServer(server, manager, tailer, logs, store, scheduler, launcher, metrics, readiness,
                drain, config);
    }

    /**
     * Where this server's local-mode drivers run: its host and data directory. A server started again
     * on the same home finds them by pid; no other replica can.
     */
    private static String home(SparkgateConfig config) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return host + ":" + config.dataDir().toAbsolutePath().normalize();
    }

    /** The configured database, or the embedded H2 file database in the data directory. */
    private static BatchStore openStore(SparkgateConfig config) {
        String url = config.store().url();
        return JdbcBatchStore.open(url.isEmpty() ? JdbcBatchStore.embeddedUrl(config.dataDir()) : url,
                config.store().user(), config.store().password());
    }

    /**
     * The services of the one port: gRPC, gRPC-Web, Livy REST (transcoded), docs, health, reflection.
     * Each service is wrapped in the authentication decorator (all but gRPC health checks need credentials
     * when auth is on): decorating the services, not path prefixes, leaves no route uncovered.
     */
    static void configureServices(ServerBuilder sb, BatchManager manager, SparkgateConfig config,
                                  Authentication auth, Operations ops) {
        AccessPolicy access = new AccessPolicy(config.access());
        LogStreamMetrics streams = new LogStreamMetrics(ops.metrics().registry());
        // One JSON marshaller, exception handler and error handler for both routes of a transcoded call.
        LivyJsonMarshaller livyJson = new LivyJsonMarshaller();
        GrpcExceptionHandlerFunction exceptions = LivyErrors.grpcExceptionHandler();
        UnframedGrpcErrorHandler errors = LivyErrors.transcodingErrorHandler();
        GrpcService grpc = withLivyFace(GrpcService.builder(), livyJson, exceptions, errors)
                .addService(new BatchGrpcService(manager, new SubmissionPolicy(config.submit()), access,
                        ops.counters(), streams))
                .addService(ProtoReflectionServiceV1.newInstance())
                // The same readiness as /readyz, for the server ("") and for the batch service.
                .addService(GrpcHealthCheckService.builder()
                        .checkers(ops.readiness().checker())
                        .serviceCheckers(BatchServiceGrpc.SERVICE_NAME, ops.readiness().checker())
                        .build())
                .maxRequestMessageLength(maxMessageSize(config))
                .build();
        // Larger bodies are refused before they are read: 413 on REST, RESOURCE_EXHAUSTED on gRPC.
        sb.maxRequestLength(config.maxRequestSize());
        // Decorators apply in order, the last outermost: authentication runs first.
        DirectTranscoding reads = new DirectTranscoding(exceptions, errors, livyJson);
        if (config.csrfProtection()) {
            sb.service(grpc, service -> service.decorate(reads), LivyCreatedStatus::new,
                       service -> service.decorate(new CsrfProtection()), auth.decorator());
        } else {
            sb.service(grpc, service -> service.decorate(reads), LivyCreatedStatus::new, auth.decorator());
        }
        new SseRoutes(manager, access, streams).addTo(sb, auth.decorator());
        new LogTextRoute(manager, access).addTo(sb, auth.decorator());
        UiRoutes.addTo(sb, auth.uiDecorator());
        addOperations(sb, config, auth, ops);
        LivyPathAliases.addTo(sb);
        sb.serviceUnder("/docs", DocService.builder()
                .exampleRequests(BatchServiceGrpc.SERVICE_NAME, "CreateBatch", CreateBatchRequest.newBuilder()
                        .setFile(config.home().resolve("examples/target/sparkgate-examples.jar").toString())
                        .setClassName("io.sparkgate.examples.SparkPi")
                        .addArgs("10")
                        .build())
                .exampleRequests(BatchServiceGrpc.SERVICE_NAME, "GetBatch", GetBatchRequest.newBuilder().setId(0).build())
                .exampleRequests(BatchServiceGrpc.SERVICE_NAME, "ListBatches", ListBatchesRequest.newBuilder().build())
                .exampleRequests(BatchServiceGrpc.SERVICE_NAME, "GetBatchLog",
                        GetBatchLogRequest.newBuilder().setId(0).setSize(100).build())
                .exclude(DocServiceFilter.ofServiceName(ServerReflectionGrpc.SERVICE_NAME))
                .build()
                .decorate(auth.decorator()));
        sb.errorHandler(LivyErrors.serverErrorHandler());
    }

    /**
     * The settings of the gRPC service that its Livy REST face depends on (JSON, errors, transcoding
     * rules, interceptors, the blocking executor), the same for Armeria's transcoding and
     * {@link DirectTranscoding}.
     */
    static GrpcServiceBuilder withLivyFace(GrpcServiceBuilder builder, LivyJsonMarshaller json,
                                           GrpcExceptionHandlerFunction exceptions, UnframedGrpcErrorHandler errors) {
        return builder
                .supportedSerializationFormats(GrpcSerializationFormats.values())
                .jsonMarshallerFactory(descriptor -> json)
                .enableHttpJsonTranscoding(HttpJsonTranscodingOptions.builder()
                        .queryParamMatchRules(HttpJsonTranscodingQueryParamMatchRule.ORIGINAL_FIELD,
                                              HttpJsonTranscodingQueryParamMatchRule.LOWER_CAMEL_CASE)
                        .errorHandler(errors)
                        .build())
                .exceptionHandler(exceptions)
                .intercept(new MalformedCallInterceptor())
                // Handlers touch files and the store: keep them off the event loop.
                .useBlockingTaskExecutor(true);
    }

    /** What the server's operation needs besides the batch API. */
    record Operations(ServerMetrics metrics, BatchCounters counters, Readiness readiness, Drain drain) {}

    /**
     * Probes, {@code /metrics}, request metrics for every service, the drain's refusal, and the optional
     * access log.
     */
    private static void addOperations(ServerBuilder sb, SparkgateConfig config, Authentication auth,
                                      Operations ops) {
        sb.meterRegistry(ops.metrics().registry());
        // Request metrics of every service, with the route (or the gRPC method) as its name.
        sb.defaultServiceNaming(ctx -> ctx.config().route().patternString());
        sb.decorator(MetricCollectingService.newDecorator(GrpcMeterIdPrefixFunction.of("armeria.server")));
        sb.decorator(ops.drain());
        io.micrometer.core.instrument.Gauge.builder("sparkgate.requests.in.flight", ops.drain(), Drain::inFlight)
                .description("Calls being served now, probes and /metrics aside (what a drain waits for)")
                .strongReference(true)
                .register(ops.metrics().registry());
        // Liveness: the process serves. Readiness: recovered, store reachable, not draining.
        sb.service("/healthz", HealthCheckService.builder().build());
        sb.service("/readyz", HealthCheckService.builder().checkers(ops.readiness().checker()).build());
        HttpService metrics = PrometheusExpositionService.of(ops.metrics().prometheusRegistry());
        // Gauges read the batch store: scrape on a blocking thread, not the event loop.
        HttpService offloaded = (ctx, req) -> HttpResponse.of(CompletableFuture.supplyAsync(() -> {
            try {
                return metrics.serve(ctx, req);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, ctx.blockingTaskExecutor()));
        sb.service("/metrics", config.ops().metricsAuthenticated() ? offloaded.decorate(auth.decorator()) : offloaded);
        if (config.ops().accessLog()) {
            AccessLog.enable(sb);
        }
    }

    private static int maxMessageSize(SparkgateConfig config) {
        return (int) Math.min(Integer.MAX_VALUE, config.maxRequestSize());
    }

    public int port() {
        return server.activeLocalPort();
    }

    public BatchManager manager() {
        return manager;
    }

    /** Whether {@code /readyz} says ready. */
    public boolean ready() {
        return readiness.isReady();
    }

    /**
     * Stops as an orchestrator expects on SIGTERM ({@link Drain}): not ready at once, refusing new calls
     * after {@code sparkgate.drain.grace}, waiting at most {@code sparkgate.drain.timeout} for calls in
     * flight; then {@link #close}, with what is left of that timeout for launches to hand over. Running
     * batches keep running.
     */
    public void drainAndClose() {
        close(drain.run(readiness, manager, config.ops()));
    }

    /** Stops at once, giving launches up to {@code sparkgate.drain.timeout} to hand over. */
    @Override
    public void close() {
        close(config.ops().drainTimeout());
    }

    /**
     * In the order that loses nothing: no more calls; no more launches, those under way finished and
     * handed over (within {@code handover}); the log tailer stopped, so nothing writes any more; then the
     * store.
     */
    private void close(Duration handover) {
        readiness.draining();
        server.stop().join();
        readiness.close();
        manager.close(handover);
        if (launcher instanceof YarnLauncher yarn) {
            yarn.close(); // after the manager: its kills go out through the tracker
        }
        tailer.close();
        scheduler.shutdownNow();
        logs.close();
        store.close();
        metrics.close();
    }
}
