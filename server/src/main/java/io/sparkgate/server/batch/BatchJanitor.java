package io.sparkgate.server.batch;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.BatchState;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.DeadlineSettings;
import io.sparkgate.server.store.BatchStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives every batch a way out (peers' batches stuck in STARTING after a crash are the bug this
 * prevents) and keeps the store from growing without bound. Each {@link #sweep}:
 * <ul>
 *   <li>a batch longer in a non-final state than its deadline ({@code sparkgate.timeout.*}) ends
 *       {@code dead} with a reason that names the deadline, its application killed;</li>
 *   <li>a batch finished longer ago than {@code sparkgate.retention} is removed with its log.</li>
 * </ul>
 */
public final class BatchJanitor {

    private static final Logger log = LoggerFactory.getLogger(BatchJanitor.class);

    private final BatchManager manager;
    private final BatchStore store;
    private final DeadlineSettings config;
    private final Clock clock;

    public BatchJanitor(BatchManager manager, BatchStore store, DeadlineSettings config, Clock clock) {
        this.manager = requireNonNull(manager, "manager");
        this.store = requireNonNull(store, "store");
        this.config = requireNonNull(config, "config");
        this.clock = requireNonNull(clock, "clock");
    }

    /** One pass over the store; safe to call from a scheduler (never throws). */
    public void sweep() {
        try {
            Instant now = clock.instant();
            for (Batch batch : store.listUnfinished()) {
                Duration limit = deadline(batch.state());
                if (limit.isZero()) {
                    continue;
                }
                if (batch.lastChange().time().plus(limit).isBefore(now)) {
                    String state = batch.state().livyName();
                    manager.end(batch.id(), state + " for more than " + human(limit) + " (sparkgate.timeout."
                            + state.replace('_', '-') + ")");
                }
            }
            for (int id : store.finishedBefore(now.minus(config.retention()))) {
                try {
                    manager.delete(id, "");
                    log.info("batch {}: removed after the retention period of {}", id, human(config.retention()));
                } catch (BatchNotFoundException e) {
                    // deleted meanwhile
                }
            }
        } catch (RuntimeException e) {
            log.warn("batch janitor: sweep failed", e);
        }
    }

    private Duration deadline(BatchState state) {
        return switch (state) {
            case NOT_STARTED -> config.notStartedTimeout();
            case STARTING -> config.startingTimeout();
            case RUNNING -> config.runningTimeout();
            default -> Duration.ZERO;
        };
    }

    /** {@code PT10M} → {@code 10m}, as the config file writes it. */
    static String human(Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        long s = d.toSeconds();
        if (s % 86400 == 0) {
            return s / 86400 + "d";
        }
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
