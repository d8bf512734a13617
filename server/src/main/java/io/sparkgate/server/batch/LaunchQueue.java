package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.AdmissionSettings;
import io.sparkgate.server.store.ReplicaLoad;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission and order of launches. A batch is <em>starting</em> from its launch until its application
 * runs, and <em>running</em> (for the limits) from its launch until a final state; both are limited
 * globally and per user ({@link AdmissionSettings}). A batch over a limit waits; waiting batches start in
 * id order, except that one whose user is at a per-user limit lets other users' batches pass (each user's
 * own batches still start in order). At most {@code maxWaiting} new batches wait; past that, creates are
 * refused.
 *
 * <p>A create asks first ({@link #reserve}), so the batch's first recorded state is exact:
 * {@code starting} when it may start now, {@code not_started} (with what it waits for) when it waits; a
 * refused create records nothing. The manager then reports each batch's way through:
 * {@link #submit} once recorded, {@link #started} when it runs, {@link #ended} when final or gone. Every
 * report is idempotent and frees what the batch held, then starts what may start now: no batch holds a
 * place after it ended, whichever way it ended.
 *
 * <p>A launch admitted during a burst of creates starts once the burst has passed ({@link CreateBurst}):
 * answering that a batch is recorded comes before starting batches.
 */
final class LaunchQueue {

    private static final Logger log = LoggerFactory.getLogger(LaunchQueue.class);

    /** What {@link #reserve} granted. */
    enum Grant { START, WAIT, FULL }

    /**
     * A reservation for a batch not recorded yet.
     *
     * @param reason for {@code WAIT}, what the batch waits for; for {@code FULL}, why it is refused
     */
    record Ticket(Grant grant, String user, String reason) {}

    /** What holds a waiting batch back; a global limit holds back every batch behind it too. */
    private record Block(boolean global, String reason) {}

    /** Numbers of batches in each phase, for tests and logs. */
    record Counts(int waiting, int starting, int running) {}

    private final AdmissionSettings limits;
    private final Executor pool;
    private final IntConsumer launch;
    /** Launches wait on their own thread while creates arrive in a burst. */
    private final CreateBurst burst = new CreateBurst(System::nanoTime);

    /** Waiting batches by id (their order) with their user. */
    private final TreeMap<Integer, String> waiting = new TreeMap<>();
    private final Map<String, Integer> waitingByUser = new HashMap<>();
    /** Users of WAIT tickets whose batch is not recorded yet; they count against {@code maxWaiting}. */
    private final List<String> reservedWaits = new ArrayList<>();
    /** Launched batches whose application does not run yet, and those that run. */
    private final Map<Integer, String> startingIds = new HashMap<>();
    private final Map<Integer, String> runningIds = new HashMap<>();
    /** Counts include START tickets whose batch is not recorded yet. */
    private final Map<String, Integer> startingByUser = new HashMap<>();
    private final Map<String, Integer> launchedByUser = new HashMap<>();
    private int startingTotal;
    private int launchedTotal;
    /** Replicas: what the other replicas have admitted, added to this server's counts; none by default. */
    private ReplicaLoad others = ReplicaLoad.NONE;

    /**
     * @param pool runs launches
     * @param launch launches one batch (and moves a waiting one to {@code starting} first)
     */
    LaunchQueue(AdmissionSettings limits, Executor pool, IntConsumer launch) {
        this.limits = requireNonNull(limits, "limits");
        this.pool = requireNonNull(pool, "pool");
        this.launch = requireNonNull(launch, "launch");
    }

    /**
     * Reserves a start for a new batch of {@code user}, else a place to wait, else nothing. A new batch
     * starts at once only when its user has none waiting and no batch waits that could start now.
     */
    synchronized Ticket reserve(String user) {
        requireNonNull(user, "user");
        burst.created();
        Optional<Block> block = blockOf(user);
        boolean overtakes = waitingByUser.containsKey(user) || reservedWaits.contains(user)
                || reservedWaits.stream().anyMatch(other -> blockOf(other).isEmpty());
        if (block.isEmpty() && !overtakes) {
            count(user, +1, +1);
            return new Ticket(Grant.START, user, "");
        }
        int waitingNow = waiting.size() + reservedWaits.size() + others.waiting();
        if (waitingNow >= limits.maxWaiting()) {
            return new Ticket(Grant.FULL, user, "too many batches are waiting to start (" + waitingNow
                    + ", the limit); retry later");
        }
        reservedWaits.add(user);
        return new Ticket(Grant.WAIT, user, block.map(Block::reason).orElse("waiting: earlier batches first"));
    }

    /** Gives back a reservation whose batch was not recorded after all. */
    synchronized void release(Ticket ticket) {
        switch (ticket.grant()) {
            case START -> count(ticket.user(), -1, -1);
            case WAIT -> reservedWaits.remove(ticket.user());
            case FULL -> { }
        }
        dispatch();
    }

    /**
     * The batch is recorded: launch it now (a START ticket) or when its turn comes (a WAIT ticket). If it
     * ended before this call (deleted at once), the caller reports {@link #ended} again after it.
     */
    void submit(int batchId, Ticket ticket) {
        synchronized (this) {
            switch (ticket.grant()) {
                case START -> startingIds.put(batchId, ticket.user());
                case WAIT -> {
                    reservedWaits.remove(ticket.user());
                    addWaiting(batchId, ticket.user());
                    dispatch();
                }
                case FULL -> throw new IllegalArgumentException("a refused batch cannot be submitted");
            }
        }
        if (ticket.grant() == Grant.START) {
            execute(batchId);
        }
    }

    /**
     * Recovery: queues a recorded batch that was never launched, whatever the waiting limit (it was
     * accepted once), and starts it if it may.
     *
     * @return what it waits for; empty when it started
     */
    synchronized Optional<String> enqueue(int batchId, String user) {
        addWaiting(batchId, user);
        dispatch();
        if (!waiting.containsKey(batchId)) {
            return Optional.empty();
        }
        return Optional.of(blockOf(user).map(Block::reason).orElse("waiting: earlier batches first"));
    }

    /** Recovery: a batch launched by an earlier server process, still starting or running, holds its place. */
    synchronized void adopt(int batchId, String user, boolean starting) {
        if (startingIds.containsKey(batchId) || runningIds.containsKey(batchId)) {
            return;
        }
        if (starting) {
            startingIds.put(batchId, user);
            count(user, +1, +1);
        } else {
            runningIds.put(batchId, user);
            count(user, 0, +1);
        }
    }

    /** The batch's application runs: its starting place is free. */
    synchronized void started(int batchId) {
        String user = startingIds.remove(batchId);
        if (user != null) {
            count(user, -1, 0);
            runningIds.put(batchId, user);
            dispatch();
        }
    }

    /** The batch is final or gone: whatever it held is free. */
    synchronized void ended(int batchId) {
        String user;
        if ((user = waiting.remove(batchId)) != null) {
            decrement(waitingByUser, user);
        } else if ((user = startingIds.remove(batchId)) != null) {
            count(user, -1, -1);
        } else if ((user = runningIds.remove(batchId)) != null) {
            count(user, 0, -1);
        } else {
            return;
        }
        dispatch();
    }

    /**
     * Replicas: a batch granted its start here was refused by the database's count over all replicas
     * (another replica took the last place first): it waits again, first in its order. Not started
     * again from here: the next dispatch (a batch ending here, or the next figure from the other
     * replicas, see {@link #others}) tries it again.
     */
    synchronized void requeue(int batchId, String user) {
        if (startingIds.remove(batchId) != null) {
            count(user, -1, -1);
            addWaiting(batchId, user);
        }
    }

    /**
     * Replicas: how many more batches this server could start now under its global limits, after those
     * already waiting here; what it claims of the batches nobody holds.
     */
    synchronized int spare() {
        int starting = limits.maxStarting() - startingTotal - others.starting();
        int running = limits.maxRunning() > 0 ? limits.maxRunning() - launchedTotal - others.launched()
                                              : Integer.MAX_VALUE;
        return Math.max(0, Math.min(starting, running) - waiting.size() - reservedWaits.size());
    }

    /**
     * Replicas: what the other replicas have admitted now; the limits count it with this server's own
     * batches from now on (so they hold across replicas, to within the age of this figure), and
     * waiting batches start if that leaves room.
     */
    synchronized void others(ReplicaLoad load) {
        others = requireNonNull(load, "load");
        dispatch();
    }

    synchronized Counts counts() {
        return new Counts(waiting.size(), startingTotal, launchedTotal - startingTotal);
    }

    /** Starts every waiting batch that may start now, in id order, skipping users at their own limits. */
    private void dispatch() {
        Set<String> heldBack = new HashSet<>();
        List<Integer> toLaunch = new ArrayList<>();
        Iterator<Map.Entry<Integer, String>> it = waiting.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Integer, String> next = it.next();
            // Read before remove(): TreeMap may reuse a removed entry for its successor.
            int id = next.getKey();
            String user = next.getValue();
            if (heldBack.contains(user)) {
                continue; // a user's batches start in their order
            }
            Optional<Block> block = blockOf(user);
            if (block.isEmpty()) {
                it.remove();
                decrement(waitingByUser, user);
                startingIds.put(id, user);
                count(user, +1, +1);
                toLaunch.add(id);
            } else if (block.get().global()) {
                break;
            } else {
                heldBack.add(user);
            }
        }
        toLaunch.forEach(this::execute);
    }

    /** What holds back a batch of {@code user} now; empty when it may start. The user's own limits first. */
    private Optional<Block> blockOf(String user) {
        int userLaunched = launchedByUser.getOrDefault(user, 0) + others.launchedByUser().getOrDefault(user, 0);
        int userStarting = startingByUser.getOrDefault(user, 0) + others.startingByUser().getOrDefault(user, 0);
        int allLaunched = this.launchedTotal + others.launched();
        int allStarting = this.startingTotal + others.starting();
        if (limits.maxRunningPerUser() > 0 && userLaunched >= limits.maxRunningPerUser()) {
            return Optional.of(new Block(false, "waiting: " + who(user) + " has " + batches(userLaunched)
                    + " running (limit " + limits.maxRunningPerUser() + ")"));
        }
        if (limits.maxRunning() > 0 && allLaunched >= limits.maxRunning()) {
            return Optional.of(new Block(true, "waiting: " + batches(allLaunched) + " running (limit "
                    + limits.maxRunning() + ")"));
        }
        if (limits.maxStartingPerUser() > 0 && userStarting >= limits.maxStartingPerUser()) {
            return Optional.of(new Block(false, "waiting: " + who(user) + " has " + batches(userStarting)
                    + " starting (limit " + limits.maxStartingPerUser() + ")"));
        }
        if (allStarting >= limits.maxStarting()) {
            return Optional.of(new Block(true, "waiting: " + batches(allStarting) + " starting (limit "
                    + limits.maxStarting() + ")"));
        }
        return Optional.empty();
    }

    private static String who(String user) {
        return user.isEmpty() ? "the anonymous user" : "user " + user;
    }

    private static String batches(int n) {
        return n == 1 ? "1 batch" : n + " batches";
    }

    private void addWaiting(int batchId, String user) {
        if (waiting.putIfAbsent(batchId, user) == null) {
            waitingByUser.merge(user, 1, Integer::sum);
        }
    }

    private void count(String user, int starting, int launched) {
        startingTotal += starting;
        launchedTotal += launched;
        if (starting != 0) {
            startingByUser.merge(user, starting, Integer::sum);
            startingByUser.remove(user, 0);
        }
        if (launched != 0) {
            launchedByUser.merge(user, launched, Integer::sum);
            launchedByUser.remove(user, 0);
        }
    }

    private static void decrement(Map<String, Integer> counts, String user) {
        counts.merge(user, -1, Integer::sum);
        counts.remove(user, 0);
    }

    private void execute(int batchId) {
        try {
            pool.execute(() -> {
                burst.awaitCalm();
                launch.accept(batchId);
            });
        } catch (RejectedExecutionException e) {
            // Shutting down: the batch stays recorded unlaunched, and the next start queues it again.
            log.debug("batch {}: not launched, the server is stopping", batchId);
        }
    }
}
