package io.sparkgate.server.metrics;

import com.linecorp.armeria.common.prometheus.PrometheusMeterRegistries;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sparkgate.server.BuildInfo;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.RequestIdTakenException;
import io.sparkgate.server.yarn.ResourceManagerClient;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;

/**
 * The server's one metrics registry, scraped at {@code GET /metrics}: Armeria's request metrics, the
 * batch metrics of this package, JVM and process metrics, and {@code sparkgate_build_info}. One per
 * server (tests run several in one JVM), closed with it.
 *
 * <p>Every latency is exported as a Prometheus histogram with fixed buckets, never as client-side
 * percentiles: buckets of several replicas add up, percentiles do not.
 */
public final class ServerMetrics implements AutoCloseable {

    /** Request and query latencies: 0.5 ms to 10 s. */
    static final Duration[] FAST_BUCKETS = durations(
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10);

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();

    public ServerMetrics(BuildInfo build) {
        registry = PrometheusMeterRegistries.newRegistry();
        registry.config().meterFilter(armeriaHistograms());
        for (MeterBinder binder : new MeterBinder[] {new JvmMemoryMetrics(), gcMetrics, new JvmThreadMetrics(),
                new ClassLoaderMetrics(), new ProcessorMetrics(), new UptimeMetrics(),
                new FileDescriptorMetrics()}) {
            binder.bindTo(registry);
        }
        Info.builder()
                .name("sparkgate_build_info")
                .help("The version and commit of this server: always 1")
                .labelNames("version", "commit")
                .register(registry.getPrometheusRegistry())
                .setLabelValues(build.version(), build.commit());
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** {@code store} with every call timed ({@code sparkgate_store_query_seconds}) and failures counted. */
    public BatchStore timed(BatchStore store) {
        return TimedCalls.wrap(BatchStore.class, store, registry, "sparkgate.store.query",
                "Batch store calls (each one or a few SQL statements), by operation", "sparkgate.store.errors",
                "operation", failure -> !(failure instanceof RequestIdTakenException), Set.of("close"));
    }

    /** {@code rm} with every ResourceManager call timed ({@code sparkgate_yarn_request_seconds}); the poll is applicationsTagged. */
    public ResourceManagerClient timed(ResourceManagerClient rm) {
        return TimedCalls.wrap(ResourceManagerClient.class, rm, registry, "sparkgate.yarn.request",
                "ResourceManager calls; applicationsTagged is the one poll of all batches", "sparkgate.yarn.errors",
                "call", failure -> true, Set.of("close"));
    }

    /** What {@code /metrics} exposes. */
    public PrometheusRegistry prometheusRegistry() {
        return registry.getPrometheusRegistry();
    }

    /**
     * Armeria's request timers as histograms: by default Armeria exports client-side percentiles only,
     * which cannot be aggregated across replicas.
     */
    private static MeterFilter armeriaHistograms() {
        double[] slos = Arrays.stream(FAST_BUCKETS).mapToDouble(Duration::toNanos).toArray();
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (id.getType() != Meter.Type.TIMER || !id.getName().startsWith("armeria.server.")) {
                    return config;
                }
                return DistributionStatisticConfig.builder()
                        .percentiles()
                        .percentilesHistogram(false)
                        .serviceLevelObjectives(slos)
                        .build()
                        .merge(config);
            }
        };
    }

    static Duration[] durations(double... seconds) {
        return Arrays.stream(seconds).mapToObj(s -> Duration.ofNanos((long) (s * 1e9))).toArray(Duration[]::new);
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
