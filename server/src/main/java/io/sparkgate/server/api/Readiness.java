package io.sparkgate.server.api;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.util.ThreadFactories;
import com.linecorp.armeria.server.healthcheck.SettableHealthChecker;
import io.sparkgate.server.store.BatchStore;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this server should get traffic: its recovery has finished, its batch store answers, and it is
 * not draining. One checker for {@code /readyz} and gRPC health (the server and
 * {@code sparkgate.v1.BatchService}), so they never disagree. The store is asked every
 * {@link #STORE_CHECK_INTERVAL} on a thread of its own (a hung database must not stall anything else);
 * inputs are volatile and the verdict is recomputed whenever one changes.
 */
final class Readiness implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Readiness.class);
    static final Duration STORE_CHECK_INTERVAL = Duration.ofSeconds(2);

    private final SettableHealthChecker checker = new SettableHealthChecker(false);
    private final BatchStore store;
    private final ScheduledExecutorService thread =
            Executors.newSingleThreadScheduledExecutor(ThreadFactories.newThreadFactory("sparkgate-readiness", true));
    private volatile boolean recovered;
    private volatile boolean storeReachable = true;
    private volatile boolean draining;

    Readiness(BatchStore store) {
        this.store = requireNonNull(store, "store");
        thread.scheduleWithFixedDelay(this::checkStore, STORE_CHECK_INTERVAL.toMillis(),
                STORE_CHECK_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    SettableHealthChecker checker() {
        return checker;
    }

    /** Every batch the last process left is tracked again: the server may take requests. */
    void recoveryFinished() {
        recovered = true;
        update();
    }

    /** The server is leaving: not ready from now on. */
    void draining() {
        draining = true;
        update();
    }

    boolean isReady() {
        return checker.isHealthy();
    }

    private void checkStore() {
        boolean reachable;
        try {
            store.count();
            reachable = true;
        } catch (RuntimeException e) {
            reachable = false;
            if (storeReachable) {
                log.warn("batch store unreachable: not ready until it answers ({})", e.getMessage());
            }
        }
        if (reachable && !storeReachable) {
            log.info("batch store answers again: ready");
        }
        storeReachable = reachable;
        update();
    }

    private synchronized void update() {
        boolean ready = recovered && storeReachable && !draining;
        if (checker.isHealthy() != ready) {
            checker.setHealthy(ready);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
