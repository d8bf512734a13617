package io.sparkgate.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Live log followers by transport ({@code grpc}: StreamBatchLog, {@code sse}: /log/stream) and the bytes
 * sent to them. The API layer opens a {@link Follower} per stream and ends it when the stream ends, for
 * whatever reason; all of it is thread-safe.
 */
public final class LogStreamMetrics {

    /** How a follower is served; each is a metric label. */
    public enum Transport { GRPC, SSE }

    private final AtomicInteger[] active = new AtomicInteger[Transport.values().length];
    private final Counter[] bytes = new Counter[Transport.values().length];

    public LogStreamMetrics(MeterRegistry registry) {
        for (Transport t : Transport.values()) {
            AtomicInteger count = new AtomicInteger();
            active[t.ordinal()] = count;
            Gauge.builder("sparkgate.log.followers", count, AtomicInteger::get)
                    .description("Log streams open now, by transport")
                    .tag("transport", BatchCounters.label(t))
                    .strongReference(true)
                    .register(registry);
            bytes[t.ordinal()] = Counter.builder("sparkgate.log.streamed")
                    .description("Bytes of log sent to followers, by transport")
                    .baseUnit("bytes")
                    .tag("transport", BatchCounters.label(t))
                    .register(registry);
        }
    }

    /** A stream starts; call {@link Follower#ended()} when it ends. */
    public Follower follower(Transport transport) {
        active[transport.ordinal()].incrementAndGet();
        return new Follower(transport);
    }

    /** One open stream. */
    public final class Follower {
        private final Transport transport;
        private final AtomicBoolean ended = new AtomicBoolean();

        private Follower(Transport transport) {
            this.transport = transport;
        }

        public void sent(long byteCount) {
            bytes[transport.ordinal()].increment(byteCount);
        }

        /** The stream ended; later calls do nothing. */
        public void ended() {
            if (ended.compareAndSet(false, true)) {
                active[transport.ordinal()].decrementAndGet();
            }
        }
    }
}
