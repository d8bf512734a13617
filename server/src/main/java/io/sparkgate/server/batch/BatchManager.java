package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.launch.AppExit;
import io.sparkgate.server.launch.LaunchException;
import io.sparkgate.server.launch.LaunchListener;
import io.sparkgate.server.launch.LaunchedApp;
import io.sparkgate.server.launch.Launcher;
import io.sparkgate.server.logs.LogPage;
import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.logs.LogTailer;
import io.sparkgate.server.store.BatchStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of every batch. The only place batch state changes: each change gets a time and a reason,
 * is saved before anyone is told, and final states are final.
 *
 * <p>Launching is asynchronous: {@link #create} records the batch and returns; a small pool starts
 * {@code spark-submit}. Admission is bounded (launch threads plus a queue): past it, creates are
 * refused before anything is recorded.
 */
public final class BatchManager implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BatchManager.class);

    /** Lines of log a Batch carries, as Livy's batch object does. */
    public static final int BATCH_LOG_TAIL = 10;
    public static final int DEFAULT_PAGE_SIZE = 100;

    /** Set by the server for every batch; a request may not move a batch elsewhere. */
    private static final Set<String> SERVER_OWNED_CONF = Set.of("spark.master", "spark.submit.deployMode");

    private final BatchStore store;
    private final LogStore logs;
    private final LogTailer tailer;
    private final Launcher launcher;
    private final Clock clock;
    private final ExecutorService launchPool;
    private final int launchThreads;
    private final Semaphore admission;
    private final AtomicInteger launching = new AtomicInteger();
    private final ConcurrentMap<Integer, Runtime> runtimes = new ConcurrentHashMap<>();
    private final List<BatchListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public BatchManager(BatchStore store, LogStore logs, LogTailer tailer, Launcher launcher, int launchThreads,
                        int launchQueueSize, Clock clock) {
        this.store = requireNonNull(store, "store");
        this.logs = requireNonNull(logs, "logs");
        this.tailer = requireNonNull(tailer, "tailer");
        this.launcher = requireNonNull(launcher, "launcher");
        this.clock = requireNonNull(clock, "clock");
        this.launchThreads = launchThreads;
        this.launchPool = Executors.newFixedThreadPool(launchThreads, r -> {
            Thread t = new Thread(r, "sparkgate-launch");
            t.setDaemon(true);
            return t;
        });
        this.admission = new Semaphore(launchThreads + launchQueueSize);
    }

    /** Told of every state change after it is saved; must not block. */
    public void addListener(BatchListener listener) {
        listeners.add(requireNonNull(listener, "listener"));
    }

    /**
     * Validates and records a new batch, then queues its launch.
     *
     * @throws InvalidBatchRequestException when the request cannot run as asked; nothing is recorded
     * @throws AdmissionLimitException when too many batches wait to launch; nothing is recorded
     */
    public Batch create(BatchRequest request, String owner) {
        validate(request);
        if (!admission.tryAcquire()) {
            throw new AdmissionLimitException("too many batches are waiting to launch; retry later",
                    Duration.ofSeconds(5));
        }
        Batch batch;
        try {
            int id = store.nextId();
            boolean slotFree = launching.get() < launchThreads;
            StateChange first = slotFree
                    ? new StateChange(BatchState.STARTING, clock.instant(), "submitted")
                    : new StateChange(BatchState.NOT_STARTED, clock.instant(), "submitted; waiting for a launch slot");
            batch = new Batch(id, request, owner, "", "", "", List.of(first), clock.instant());
            store.save(batch);
            runtimes.put(id, new Runtime());
        } catch (RuntimeException e) {
            admission.release();
            throw e;
        }
        int id = batch.id();
        launchPool.execute(() -> launch(id));
        notifyListeners(batch);
        return batch;
    }

    public Batch get(int id) {
        return store.get(id).orElseThrow(() -> new BatchNotFoundException(id));
    }

    /** The last lines of a batch's log, as carried on the Batch object. */
    public List<String> logTail(int id) {
        return logs.tail(id, BATCH_LOG_TAIL);
    }

    /**
     * A page of the batch list in ascending id order.
     *
     * @param from index of the first batch; 0 when empty
     * @param size most batches; {@value #DEFAULT_PAGE_SIZE} when empty
     */
    public BatchPage list(OptionalInt from, OptionalInt size) {
        int start = from.orElse(0);
        int count = size.orElse(DEFAULT_PAGE_SIZE);
        if (start < 0) {
            throw new InvalidBatchRequestException("'from' must be >= 0, got " + start);
        }
        if (count < 0) {
            throw new InvalidBatchRequestException("'size' must be >= 0, got " + count);
        }
        return new BatchPage(start, store.count(), store.list(start, count));
    }

    /**
     * A page of a batch's log, with Livy's rules: {@code size} defaults to 100 and a negative size
     * means all; a missing or negative {@code from} means the tail, {@code max(0, total - size)}.
     */
    public LogPage log(int id, OptionalInt from, OptionalInt size) {
        get(id);
        int count = size.orElse(DEFAULT_PAGE_SIZE);
        long start;
        if (from.isPresent() && from.getAsInt() >= 0) {
            start = from.getAsInt();
        } else {
            start = count < 0 ? 0 : Math.max(0, logs.total(id) - count);
        }
        return logs.read(id, start, count);
    }

    /** Kills the batch's application if it still runs, then forgets the batch. */
    public void delete(int id, String byUser) {
        Batch batch = get(id);
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
        if (app != null) {
            app.kill(); // its log goes when its process is gone (onExit)
        } else {
            runtimes.remove(id);
            logs.delete(id);
        }
    }

    private void launch(int id) {
        launching.incrementAndGet();
        try {
            Runtime rt = runtimes.get(id);
            if (rt == null || rt.deleted) {
                return;
            }
            Batch batch = get(id);
            if (batch.state() == BatchState.NOT_STARTED) {
                transition(id, BatchState.STARTING, "launch slot free");
            }
            LaunchedApp app;
            try {
                app = launcher.launch(id, batch.request(), logs.batchDir(id), logs.outputFile(id), new Events(id));
            } catch (LaunchException e) {
                logs.append(id, "[sparkgate] " + e.getMessage());
                transition(id, BatchState.DEAD, e.getMessage());
                return;
            }
            boolean killNow;
            synchronized (rt) {
                rt.app = app;
                killNow = rt.deleted;
            }
            LaunchedApp started = app;
            tailer.follow(id, app::hasEnded, () -> ended(id, started.exit()));
            if (killNow) {
                app.kill();
            }
        } catch (BatchNotFoundException e) {
            // deleted while queued: nothing to launch
        } catch (RuntimeException e) {
            log.error("batch {}: launch failed", id, e);
            transition(id, BatchState.DEAD, "launch failed: " + e);
        } finally {
            launching.decrementAndGet();
            admission.release();
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
        log.info("batch {}: {} ({})", id, state.name().toLowerCase(Locale.ROOT), reason);
        notifyListeners(next);
    }

    private void notifyListeners(Batch batch) {
        for (BatchListener l : listeners) {
            try {
                l.stateChanged(batch);
            } catch (RuntimeException e) {
                log.warn("batch listener failed", e);
            }
        }
    }

    private static void validate(BatchRequest r) {
        if (r.file().isBlank()) {
            throw new InvalidBatchRequestException("'file' is required: the application's jar or Python file");
        }
        positive("driverCores", r.driverCores());
        positive("executorCores", r.executorCores());
        positive("numExecutors", r.numExecutors());
        for (Map.Entry<String, String> e : r.conf().entrySet()) {
            if (e.getKey().isBlank()) {
                throw new InvalidBatchRequestException("'conf' has an empty key");
            }
            if (SERVER_OWNED_CONF.contains(e.getKey())) {
                throw new InvalidBatchRequestException("'conf' may not set " + e.getKey()
                        + ": the server decides where batches run");
            }
        }
    }

    private static void positive(String field, OptionalInt value) {
        if (value.isPresent() && value.getAsInt() <= 0) {
            throw new InvalidBatchRequestException("'" + field + "' must be a positive number, got " + value.getAsInt());
        }
    }

    @Override
    public void close() {
        launchPool.shutdownNow();
        // Batches do not outlive the server that tracks them (yet): stop their applications.
        runtimes.values().forEach(rt -> {
            LaunchedApp app = rt.app;
            if (app != null) {
                app.kill();
            }
        });
        try {
            launchPool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What the manager knows of a batch beyond its stored state. */
    private static final class Runtime {
        volatile LaunchedApp app;
        volatile boolean deleted;
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
