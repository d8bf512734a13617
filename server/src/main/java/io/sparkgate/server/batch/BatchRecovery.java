package io.sparkgate.server.batch;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchState;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.values.LaunchInfo;
import io.sparkgate.server.launch.Launcher;
import io.sparkgate.server.launch.RecordedLaunch;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.store.BatchStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles every batch that a previous server process left unfinished, once at start and before
 * the server serves requests, so that no client ever sees a batch in a state nobody tracks (and none
 * is shown as Livy's {@code recovering}):
 * <ul>
 *   <li>queued ({@code not_started}), or {@code starting} with no trace of a launch (no process
 *       recorded, no app id, no output): queued again in id order, after every launched batch has taken
 *       its place under the admission limits, and launched when their turn comes;</li>
 *   <li>otherwise the launcher looks for its application ({@link io.sparkgate.server.launch.Launcher#reattach}):
 *       ended meanwhile → its final state from the exit code; still running → followed again;</li>
 *   <li>not found → {@code dead}: "server restarted: driver process lost".</li>
 * </ul>
 */
public final class BatchRecovery {

    private static final Logger log = LoggerFactory.getLogger(BatchRecovery.class);
    public static final String LOST = "server restarted: driver process lost";

    private final BatchManager manager;
    private final BatchStore store;
    private final LogStore logs;
    private final Launcher launcher;

    public BatchRecovery(BatchManager manager, BatchStore store, LogStore logs, Launcher launcher) {
        this.manager = requireNonNull(manager, "manager");
        this.store = requireNonNull(store, "store");
        this.logs = requireNonNull(logs, "logs");
        this.launcher = requireNonNull(launcher, "launcher");
    }

    /** Reconciles all unfinished batches; returns how many there were. */
    public int recover() {
        int n = 0;
        List<Batch> neverLaunched = new ArrayList<>();
        for (Batch batch : store.listUnfinished()) {
            n++;
            try {
                if (neverLaunched(batch)) {
                    neverLaunched.add(batch);
                } else {
                    reattach(batch);
                }
            } catch (RuntimeException e) {
                failed(batch, e);
            }
        }
        neverLaunched.sort(Comparator.comparingInt(Batch::id));
        for (Batch batch : neverLaunched) {
            try {
                manager.relaunch(batch).ifPresentOrElse(
                        reason -> log.info("batch {}: queued again after a server restart ({})", batch.id(), reason),
                        () -> log.info("batch {}: launching it again: it was recorded but never launched", batch.id()));
            } catch (RuntimeException e) {
                failed(batch, e);
            }
        }
        if (n > 0) {
            log.info("recovered {} unfinished batches", n);
        }
        return n;
    }

    private void failed(Batch batch, RuntimeException e) {
        log.error("batch {}: cannot recover it", batch.id(), e);
        manager.end(batch.id(), "server restarted: recovery failed: " + e.getMessage());
    }

    private boolean neverLaunched(Batch batch) {
        int id = batch.id();
        return batch.state() == BatchState.NOT_STARTED
                || (batch.state() == BatchState.STARTING && store.launch(id).isEmpty() && batch.appId().isEmpty()
                    && isEmpty(logs.outputFile(id)) && !launcher.leftTrace(logs.batchDir(id)));
    }

    private void reattach(Batch batch) {
        int id = batch.id();
        Optional<LaunchInfo> process = store.launch(id);
        RecordedLaunch recorded = new RecordedLaunch(id, logs.batchDir(id), logs.outputFile(id), batch.appId(), process);
        if (manager.reattach(batch, recorded)) {
            log.info("batch {}: re-attached after a server restart", id);
        } else {
            logs.advance(id, true);
            manager.end(id, LOST);
        }
    }

    private static boolean isEmpty(Path file) {
        try {
            return !Files.exists(file) || Files.size(file) == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
