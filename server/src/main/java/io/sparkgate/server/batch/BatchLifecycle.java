package io.sparkgate.server.batch;

import io.sparkgate.server.values.BatchFilter;

import io.sparkgate.server.values.Text;

import io.sparkgate.server.values.AdmissionLimitException;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchConflictException;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.values.StateChange;

import com.linecorp.armeria.common.util.ThreadFactories;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.AdmissionSettings;
import io.sparkgate.server.launch.AppExit;
import io.sparkgate.server.launch.LaunchException;
import io.sparkgate.server.launch.LaunchListener;
import io.sparkgate.server.launch.LaunchedApp;
import io.sparkgate.server.launch.Launcher;
import io.sparkgate.server.launch.RecordedLaunch;
import io.sparkgate.server.logs.LogPage;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.logs.LogTailer;
import io.sparkgate.server.store.BatchStore;
import io.sparkgate.server.store.RequestIdTakenException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of every batch's life: admission and launch, following the application, and every
 * change of a batch's state, each saved before anyone is told, with a time and a reason; final states
 * are final. {@link BatchManager} is its front.
 *
 * <p>Threads: changes come from API threads (record, delete), the launch pool, the log tailer (an
 * application's end), launcher threads ({@link Events}) and the janitor; a batch's stored state is read
 * and written under its {@link Runtime}'s lock. (One owner per batch, changes on a serial executor, is
 * the next step: see issue 18.)
 *
 * <p>Over 300 lines: admission, launch, following and the state machine are one unit today, the unit a
 * per-batch owner will take apart by batch.
 */
final class BatchLifecycle implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BatchLifecycle.class);

    private final BatchStore store;
    private final LogStore logs;
    private final LogTailer tailer;
    private final Launcher launcher;
    private final Clock clock;
    private final BatchFeeds feeds;
    private final ExecutorService launchPool;
    private final LaunchQueue launches;
    private final Duration retryAfter;
    private final ConcurrentMap<Integer, Runtime> runtimes = new ConcurrentHashMap<>();

    BatchLifecycle(BatchStore store, LogStore logs, LogTailer tailer, Launcher launcher, AdmissionSettings admission,
                   Clock clock, BatchFeeds feeds) {
        this.store = requireNonNull(store, "store");
        this.logs = requireNonNull(logs, "logs");
        this.tailer = requireNonNull(tailer, "tailer");
        this.launcher = requireNonNull(launcher, "launcher");
        this.clock = requireNonNull(clock, "clock");
        this.feeds = requireNonNull(feeds, "feeds");
        // No more launches run at once than batches may be starting.
        this.launchPool = Executors.newFixedThreadPool(admission.maxStarting(),
                ThreadFactories.newThreadFactory("sparkgate-launch", true));
        this.launches = new LaunchQueue(admission, launchPool, this::launch);
        this.retryAfter = admission.retryAfter();
    }

    /**
     * Records a new batch under the admission limits and queues its launch.
     *
     * @throws AdmissionLimitException when too many batches wait to start; nothing is recorded
     * @throws RequestIdTakenException when a concurrent create took {@code requestId}; nothing is recorded
     */
    Batch record(BatchRequest request, String owner, String requestId) {
        LaunchQueue.Ticket ticket = launches.reserve(owner);
        if (ticket.grant() == LaunchQueue.Grant.FULL) {
            throw new AdmissionLimitException(ticket.reason(), retryAfter);
        }
        Batch batch;
        try {
            StateChange first = ticket.grant() == LaunchQueue.Grant.START
                    ? new StateChange(BatchState.STARTING, clock.instant(), "submitted")
                    : new StateChange(BatchState.NOT_STARTED, clock.instant(), "submitted; " + ticket.reason());
            Batch draft = new Batch(-1, request, owner, "", "", "", List.of(first), clock.instant());
            int id = store.insert(draft, requestId);
            batch = new Batch(id, request, owner, "", "", "", draft.history(), draft.createdTime());
            runtimes.putIfAbsent(id, new Runtime()); // a delete that came first keeps its mark
        } catch (RuntimeException e) {
            launches.release(ticket);
            throw e;
        }
        int id = batch.id();
        notifyListeners(batch);
        launches.submit(id, ticket);
        if (store.get(id).map(b -> b.state().isFinal()).orElse(true)) {
            launches.ended(id); // deleted before it was submitted: its place must not stay taken
        }
        return batch;
    }

    /** Kills the batch's application if it still runs, then forgets the batch. */
    void delete(Batch batch, String byUser) {
        int id = batch.id();
        Runtime rt = runtimes.computeIfAbsent(id, k -> new Runtime());
        LaunchedApp app;
        synchronized (rt) {
            rt.deleted = true;
            app = rt.app;
        }
        if (!batch.state().isFinal()) {
            transition(id, BatchState.KILLED, byUser.isEmpty() ? "deleted by user" : "deleted by user " + byUser);
        }
        store.delete(id);
        launches.ended(id);
        if (app != null) {
            app.kill(); // its log goes when its process is gone (onExit)
        } else {
            runtimes.remove(id);
            logs.delete(id);
        }
    }

    private void launch(int id) {
        try {
            Runtime rt = runtimes.get(id);
            if (rt == null || rt.deleted) {
                launches.ended(id);
                return;
            }
            Batch batch = store.get(id).orElseThrow(() -> new BatchNotFoundException(id));
            if (batch.state().isFinal()) {
                launches.ended(id);
                return; // ended while queued (its deadline passed)
            }
            if (batch.state() == BatchState.NOT_STARTED) {
                transition(id, BatchState.STARTING, "its turn to start");
            }
            LaunchedApp app;
            try {
                app = launcher.launch(id, batch.request(), logs.batchDir(id), logs.outputFile(id), new Events(id));
            } catch (LaunchException e) {
                logs.append(id, Text.NOTICE + e.getMessage());
                transition(id, BatchState.DEAD, e.getMessage());
                return;
            }
            boolean killNow;
            synchronized (rt) {
                rt.app = app;
                killNow = rt.deleted || store.get(id).map(b -> b.state().isFinal()).orElse(true);
            }
            follow(id, rt, app);
            if (killNow) {
                app.kill();
            }
        } catch (BatchNotFoundException e) {
            launches.ended(id); // deleted while queued: nothing to launch
        } catch (RuntimeException e) {
            log.error("batch {}: launch failed", id, e);
            transition(id, BatchState.DEAD, "launch failed: " + e);
        }
    }

    /**
     * Indexes the application's output until it ends, then ends the batch. On the way, saves how to
     * find the application's process again after a restart, as soon as the launcher knows it.
     */
    private void follow(int id, Runtime rt, LaunchedApp app) {
        tailer.follow(id, () -> {
            if (!rt.launchSaved) {
                app.launchInfo().ifPresent(info -> {
                    store.saveLaunch(id, info);
                    rt.launchSaved = true;
                });
            }
            return app.hasEnded();
        }, () -> ended(id, app.exit()));
    }

    /**
     * Recovery: finds the application of a batch that an earlier server process launched, and follows
     * it as if launched now. An application that ended meanwhile ends the batch at once, after the rest
     * of its output is indexed.
     *
     * @return false when the launcher cannot find the application (the batch is left as it is)
     */
    boolean reattach(Batch batch, RecordedLaunch recorded) {
        int id = recorded.batchId();
        Runtime rt = new Runtime();
        runtimes.put(id, rt);
        // It holds its place from now on; before the launcher looks, which may already report it running.
        launches.adopt(id, batch.owner(), batch.state() == BatchState.STARTING);
        Optional<LaunchedApp> found = launcher.reattach(recorded, new Events(id));
        if (found.isEmpty()) {
            runtimes.remove(id);
            launches.ended(id);
            return false;
        }
        LaunchedApp app = found.get();
        rt.app = app;
        rt.launchSaved = recorded.process().isPresent();
        if (app.hasEnded()) {
            logs.advance(id, true);
            ended(id, app.exit());
        } else {
            follow(id, rt, app);
        }
        return true;
    }

    /**
     * Recovery: queues the launch of a recorded batch that was never launched, whatever the limit on
     * waiting batches (it was accepted once). Call it for such batches in id order, after
     * {@link #reattach} for all launched ones, so that they count against the limits first.
     *
     * @return what it waits for; empty when it starts now
     */
    Optional<String> relaunch(Batch batch) {
        int id = batch.id();
        runtimes.put(id, new Runtime());
        if (batch.state() == BatchState.STARTING) {
            // Never launched: it waits like any other until its turn.
            transition(id, BatchState.NOT_STARTED, "server restarted before its launch; queued again");
        }
        return launches.enqueue(id, batch.owner());
    }

    /** Ends a batch that is not final yet: {@code dead} with the reason, killing its application if it runs. */
    void end(int id, String reason) {
        transition(id, BatchState.DEAD, reason);
        Runtime rt = runtimes.get(id);
        LaunchedApp app = rt == null ? null : rt.app;
        if (app != null) {
            app.kill();
        }
    }

    /** Saves a change of a batch that is not a state change (app id, links). */
    private void update(int id, java.util.function.UnaryOperator<Batch> change) {
        Runtime rt = runtimes.get(id);
        if (rt == null) {
            return;
        }
        Batch next;
        synchronized (rt) {
            Batch current = store.get(id).orElse(null);
            if (current == null) {
                return;
            }
            next = change.apply(current);
            store.save(next);
        }
        notifyListeners(next);
    }

    /** The application ended and its output is indexed: the batch's final state. */
    private void ended(int id, AppExit exit) {
        Runtime rt = runtimes.get(id);
        boolean deleted = rt == null || rt.deleted;
        if (!deleted) {
            exit.exitCode().ifPresent(code -> store.saveExitCode(id, code));
        }
        BatchState state = switch (exit.outcome()) {
            case SUCCEEDED -> BatchState.SUCCESS;
            case FAILED -> BatchState.DEAD;
            case KILLED -> BatchState.KILLED;
        };
        transition(id, state, exit.reason());
        if (deleted) {
            runtimes.remove(id);
            logs.delete(id);
        } else {
            rt.app = null;
        }
    }

    /** Moves a batch to a new state unless it is gone or already final. */
    private void transition(int id, BatchState state, String reason) {
        Runtime rt = runtimes.get(id);
        Object lock = rt == null ? this : rt;
        Batch next;
        synchronized (lock) {
            Batch current = store.get(id).orElse(null);
            if (current == null || current.state().isFinal() || current.state() == state) {
                return;
            }
            next = current.withState(new StateChange(state, clock.instant(), reason));
            store.save(next);
        }
        log.info("batch {}: {} ({})", id, state.livyName(), reason);
        notifyListeners(next);
        if (state.isFinal()) {
            launches.ended(id);
        } else if (state == BatchState.RUNNING) {
            launches.started(id);
        }
    }

    private void notifyListeners(Batch batch) {
        feeds.changed(batch);
    }

    /** Stops launching; running applications are left running. */
    @Override
    public void close() {
        launchPool.shutdownNow();
        try {
            launchPool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What the lifecycle knows of a batch beyond its stored state. */
    private static final class Runtime {
        volatile LaunchedApp app;
        volatile boolean deleted;
        volatile boolean launchSaved;
    }

    /** Events from one batch's application. */
    private final class Events implements LaunchListener {
        private final int id;

        Events(int id) {
            this.id = id;
        }

        @Override
        public void onRunning(String reason) {
            transition(id, BatchState.RUNNING, reason);
        }

        @Override
        public void onAppId(String appId) {
            update(id, b -> b.withAppId(appId));
        }

        @Override
        public void onAppInfo(String sparkUiUrl, String driverLogUrl) {
            update(id, b -> b.withAppInfo(sparkUiUrl, driverLogUrl));
        }
    }
}
