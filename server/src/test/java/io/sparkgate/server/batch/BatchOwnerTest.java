package io.sparkgate.server.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sparkgate.server.config.AdmissionSettings;
import io.sparkgate.server.launch.AppExit;
import io.sparkgate.server.launch.LaunchListener;
import io.sparkgate.server.launch.LaunchedApp;
import io.sparkgate.server.launch.Launcher;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.logs.LogTailer;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.JdbcBatchStore;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each batch's changes run on its own owner's executor: a store write that hangs for one batch holds up
 * that batch alone, and the thread that reported the event (here standing in for the YARN tracker or
 * the log tailer) is never the one that waits for the database. The store is the real one (H2); only
 * its {@code save} for one batch is held at a gate, and the launcher is a stand-in whose applications
 * the test drives, since what is tested is the manager's threading, not Spark.
 */
@Timeout(120) // a change made on the reporting thread would wait at the gate for ever: fail, do not hang
class BatchOwnerTest {

    @TempDir
    Path dir;

    private final Map<Integer, LaunchListener> launched = new ConcurrentHashMap<>();
    private final CountDownLatch gate = new CountDownLatch(1);
    private final CountDownLatch heldAtGate = new CountDownLatch(1);
    private volatile int heldBatch = -1;
    /** Batches whose stand-in application has exited with success. */
    private final java.util.Set<Integer> finished = ConcurrentHashMap.newKeySet();

    private JdbcBatchStore realStore;
    private LogStore logs;
    private LogTailer tailer;
    private BatchManager manager;

    @BeforeEach
    void start() {
        realStore = JdbcBatchStore.open(JdbcBatchStore.embeddedUrl(dir.resolve("store")), "sparkgate", "");
        logs = new LogStore(dir.resolve("batches"));
        tailer = new LogTailer(logs, Duration.ofMillis(10), Duration.ofMillis(100));
        manager = new BatchManager(gatedStore(), logs, tailer, new DrivenLauncher(), AdmissionSettings.defaults(),
                Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        gate.countDown();
        manager.close();
        tailer.close();
        realStore.close();
    }

    @Test
    void aBlockedStoreWriteStallsOnlyItsOwnBatch() throws Exception {
        int slow = manager.create(BatchRequest.of("/jobs/slow.jar"), "alice").id();
        int quick = manager.create(BatchRequest.of("/jobs/quick.jar"), "alice").id();
        await().atMost(30, TimeUnit.SECONDS).until(() -> launched.containsKey(slow) && launched.containsKey(quick));

        heldBatch = slow;
        // The launcher's thread reports both events and goes on: it does not wait for the write it caused.
        launched.get(slow).onRunning("slow's driver is up");
        launched.get(slow).onAppId("app-slow");
        assertThat(heldAtGate.await(30, TimeUnit.SECONDS)).as("slow's write reached the store").isTrue();

        launched.get(quick).onRunning("quick's driver is up");
        await().atMost(30, TimeUnit.SECONDS).until(() -> manager.get(quick).state() == BatchState.RUNNING);
        assertThat(manager.get(slow).state()).as("slow waits for its write, and is still readable")
                .isEqualTo(BatchState.STARTING);

        gate.countDown();
        await().atMost(30, TimeUnit.SECONDS).until(() -> manager.get(slow).state() == BatchState.RUNNING);
        // Its events ran in the order they came, one after the other.
        await().atMost(30, TimeUnit.SECONDS).until(() -> manager.get(slow).appId().equals("app-slow"));
        assertThat(realStore.get(slow).orElseThrow().state()).as("as stored").isEqualTo(BatchState.RUNNING);
    }

    @Test
    void aDeleteWhileALaunchIsReportedEndsKilledOnce() {
        int id = manager.create(BatchRequest.of("/jobs/app.jar"), "alice").id();
        await().atMost(30, TimeUnit.SECONDS).until(() -> launched.containsKey(id));

        launched.get(id).onRunning("up");
        manager.delete(id, "alice");

        assertThat(realStore.get(id)).as("the delete ran after the change before it, not beside it").isEmpty();
        assertThat(manager.list(OptionalInt.empty(), OptionalInt.empty()).batches()).extracting(Batch::id)
                .doesNotContain(id);
    }

    @Test
    void batchesThatEndedLeaveNoOwnerBehindAndCanStillBeDeleted() {
        java.util.List<Integer> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int id = manager.create(BatchRequest.of("/jobs/app.jar"), "alice").id();
            ids.add(id);
            await().atMost(30, TimeUnit.SECONDS).until(() -> launched.containsKey(id));
            if (i == 0) {
                manager.delete(id, "alice");
                continue;
            }
            launched.get(id).onRunning("up");
            finished.add(id);
        }
        int killed = ids.get(0);

        await().atMost(60, TimeUnit.SECONDS).until(() -> ids.stream().skip(1)
                .allMatch(id -> manager.get(id).state() == BatchState.SUCCESS));
        await().atMost(30, TimeUnit.SECONDS).until(() -> manager.owned() == 0);
        assertThat(realStore.get(killed)).isEmpty();
        assertThat(manager.get(ids.get(5)).appId()).isEmpty();

        manager.delete(ids.get(5), "alice"); // a final batch without an owner is still removed
        assertThat(realStore.get(ids.get(5))).isEmpty();
        assertThat(manager.owned()).isZero();
    }

    /** The real store, whose {@code save} of {@link #heldBatch} waits at {@link #gate}. */
    private BatchStore gatedStore() {
        return (BatchStore) Proxy.newProxyInstance(BatchStore.class.getClassLoader(), new Class<?>[] {BatchStore.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("save") && args.length == 1 && args[0] instanceof Batch b
                            && b.id() == heldBatch) {
                        heldAtGate.countDown();
                        gate.await();
                    }
                    try {
                        return method.invoke(realStore, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** Applications that run until killed; the test reports their events through their listeners. */
    private final class DrivenLauncher implements Launcher {
        @Override
        public LaunchedApp launch(int batchId, BatchRequest request, Path workDir, Path outputFile,
                                  LaunchListener listener) {
            launched.put(batchId, listener);
            return new LaunchedApp() {
                private volatile boolean killed;

                @Override
                public void kill() {
                    killed = true;
                }

                @Override
                public boolean hasEnded() {
                    return killed || finished.contains(batchId);
                }

                @Override
                public AppExit exit() {
                    return killed ? new AppExit(AppExit.Outcome.KILLED, OptionalInt.empty(), "killed")
                                  : new AppExit(AppExit.Outcome.SUCCEEDED, OptionalInt.of(0), "exit code 0");
                }
            };
        }
    }
}
