package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.util.ThreadFactories;
import io.sparkgate.server.config.ReplicaSettings;
import io.sparkgate.server.store.BatchLeases;
import io.sparkgate.server.store.Lease;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This replica's leases on live batches: renews all of them every renew interval (one statement),
 * claims free ones (new, or a gone replica's) every scan interval as far as there is spare capacity,
 * and tells its {@link Listener} what it gained, what it lost to another replica, and which held
 * batches someone asked to kill.
 *
 * <p>Besides the fixed scans, each renewal asks when the other replicas' first lease runs out and aims
 * one scan just after it: a replica that died is taken over {@value #AIM_AFTER_EXPIRY_MILLIS} ms after
 * its leases ran out rather than up to a scan interval later. The keeper only claims: what is done with
 * a claimed batch (adopt, launch, end) is the listener's, which runs it elsewhere and is not waited for,
 * so a scan that claims hundreds of batches takes one statement and the renewals after it are not late.
 *
 * <p>Renewals and scans run on the one scheduler thread given; {@link #lease} may be read from any
 * thread (the fence of a state write), and {@link #claim}, {@link #letGo}, {@link #releasing} and
 * {@link #released} may be called from any.
 */
public final class LeaseKeeper implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

    /**
     * What the holder of the batches does about changes of its leases; called on the scheduler thread
     * (at start, {@link #reclaim}'s caller's).
     */
    public interface Listener {
        /**
         * A batch is now this replica's: track it (adopt its application, or launch it if never launched),
         * off the calling thread; the stage completes once that is done. The keeper does not wait for it
         * (only {@link #reclaim} at start does), so that one scan's claims are taken over in parallel.
         */
        CompletionStage<Void> claimed(BatchLeases.Held held);

        /** Another replica claimed the batch: stop tracking it, write nothing more. */
        void lost(Lease lease);

        /** A DELETE on some replica asked for this held batch to be killed. */
        void killRequested(Lease lease);
    }

    /** Launched batches taken over in one scan at most, so one scan's work stays bounded. */
    private static final int MAX_TAKEN_OVER_PER_SCAN = 1000;
    /**
     * How long after the other replicas' first lease runs out the aimed scan runs: the database's clock
     * decides expiry, and this replica's scheduler may fire a little early.
     */
    static final long AIM_AFTER_EXPIRY_MILLIS = 25;

    private final BatchLeases leases;
    private final ReplicaSettings settings;
    private final IntSupplier spareCapacity;
    private final Listener listener;
    private final ScheduledExecutorService scheduler;
    /** Whether {@link #close} stops the scheduler too (it was made for this keeper alone). */
    private final boolean ownsScheduler;
    private final Map<Integer, Lease> held = new ConcurrentHashMap<>();
    /** Kill requests already passed on, so the listener hears of each once. */
    private final Set<Integer> killsReported = ConcurrentHashMap.newKeySet();
    /**
     * Leases the database renews for this replica that this keeper does not hold, with when a renewal
     * first found each ({@link System#nanoTime}): a claim in flight, or one this replica no longer
     * tracks (a release that failed). Touched by {@link #renew} only (the scheduler thread).
     */
    private Map<Lease, Long> strangers = Map.of();
    /**
     * Leases whose batch's final write, which releases them in the database, is under way: a renewal
     * that does not find one among its answer saw that write, not a claim by another replica.
     */
    private final Set<Lease> ending = ConcurrentHashMap.newKeySet();
    /** Batches claimed by a scan whose takeover (the listener's stage) is not done yet. */
    private final Set<Integer> takingOver = ConcurrentHashMap.newKeySet();
    /** A {@link #scanSoon} is queued on the scheduler and has not begun. */
    private final AtomicBoolean scanPending = new AtomicBoolean();
    private ScheduledFuture<?> renewal;
    private ScheduledFuture<?> scan;
    /**
     * The scan aimed just after the other replicas' first lease expiry, and when it runs
     * ({@link System#nanoTime}); set by renewals (the scheduler thread), cancelled by {@link #close}.
     */
    private volatile ScheduledFuture<?> aimed;
    private long aimedAt;

    public LeaseKeeper(BatchLeases leases, ReplicaSettings settings, IntSupplier spareCapacity, Listener listener,
                       ScheduledExecutorService scheduler) {
        this(leases, settings, spareCapacity, listener, scheduler, false);
    }

    /**
     * A keeper on a thread of its own, stopped with it: a slow task on a shared scheduler (a janitor
     * sweep) must not delay renewals.
     */
    public static LeaseKeeper onOwnThread(BatchLeases leases, ReplicaSettings settings, IntSupplier spareCapacity,
                                          Listener listener) {
        return new LeaseKeeper(leases, settings, spareCapacity, listener, Executors.newSingleThreadScheduledExecutor(
                ThreadFactories.newThreadFactory("sparkgate-leases", true)), true);
    }

    private LeaseKeeper(BatchLeases leases, ReplicaSettings settings, IntSupplier spareCapacity, Listener listener,
                        ScheduledExecutorService scheduler, boolean ownsScheduler) {
        this.ownsScheduler = ownsScheduler;
        this.leases = requireNonNull(leases, "leases");
        this.settings = requireNonNull(settings, "settings");
        this.spareCapacity = requireNonNull(spareCapacity, "spareCapacity");
        this.listener = requireNonNull(listener, "listener");
        this.scheduler = requireNonNull(scheduler, "scheduler");
    }

    /** Claims what is free now, then keeps renewing and scanning. */
    public void start() {
        renewal = scheduler.scheduleWithFixedDelay(this::renewQuietly, settings.renewInterval().toMillis(),
                settings.renewInterval().toMillis(), TimeUnit.MILLISECONDS);
        scan = scheduler.scheduleWithFixedDelay(this::scanQuietly, 0, settings.scanInterval().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * Claims, whatever their leases, the live local-mode batches launched from {@code home}, which only
     * this server can find again ({@link BatchLeases#reclaimHome}), hands each to the listener and waits
     * until all of them are taken over. Called once at start, before {@link #start}.
     *
     * @return how many
     */
    public int reclaim(String home) {
        List<BatchLeases.Held> back = leases.reclaimHome(home, settings.id(), settings.leaseTtl());
        List<CompletableFuture<Void>> takenOver = new ArrayList<>();
        for (BatchLeases.Held h : back) {
            held.put(h.lease().batchId(), h.lease());
            takenOver.add(listener.claimed(h).toCompletableFuture());
        }
        try {
            CompletableFuture.allOf(takenOver.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            log.error("taking back this home's batches failed", e.getCause()); // the listener ends what it cannot
        }
        for (BatchLeases.Held h : back) {
            reportKill(h);
        }
        return back.size();
    }

    /** Tells the listener, once, of a kill asked for a batch just claimed, after its takeover. */
    private void reportKill(BatchLeases.Held h) {
        if (h.killRequested() && killsReported.add(h.lease().batchId())) {
            listener.killRequested(h.lease());
        }
    }

    /** This replica's name in the database. */
    public String id() {
        return settings.id();
    }

    /** The lease this replica holds on the batch, to fence a write with. */
    public Optional<Lease> lease(int batchId) {
        return Optional.ofNullable(held.get(batchId));
    }

    /** Claims one batch now (a batch this replica just created); empty when another holds it. */
    public Optional<Lease> claim(int batchId) {
        Optional<BatchLeases.Held> claimed = leases.claim(batchId, settings.id(), settings.leaseTtl());
        claimed.ifPresent(h -> held.put(batchId, h.lease()));
        return claimed.map(BatchLeases.Held::lease);
    }

    /**
     * Forgets a lease: the batch ended (its final write released it), or a fenced write found it lost.
     * Releases it in the database if it still holds, so another replica need not wait for it to run out.
     */
    public void letGo(Lease lease) {
        ending.remove(lease);
        if (held.remove(lease.batchId(), lease)) {
            killsReported.remove(lease.batchId());
            leases.release(lease);
        }
    }

    /**
     * A write that releases the lease in the database (a batch's final state) is about to be made: until
     * {@link #released} or {@link #letGo}, a renewal that misses the lease does not take it for lost.
     * If the write fails for another reason than a lost lease, call {@link #stillHeld}.
     */
    public void releasing(Lease lease) {
        ending.add(lease);
    }

    /** A {@link #releasing} write failed without releasing the lease: renewals judge it again. */
    public void stillHeld(Lease lease) {
        ending.remove(lease);
    }

    /**
     * Forgets a lease that a write has just released in the database (the batch's final state), without
     * a statement of its own.
     */
    public void released(Lease lease) {
        if (held.remove(lease.batchId(), lease)) {
            killsReported.remove(lease.batchId());
        }
        ending.remove(lease);
    }

    /** One renewal: keeps every lease, drops (and reports) those another replica took meanwhile. */
    void renew() {
        // Only leases held before the statement is sent can be judged by its answer: one that a create
        // thread claims meanwhile may be missing from it, or present before this keeper knows its epoch,
        // and is still ours.
        List<Lease> before = List.copyOf(held.values());
        Set<Integer> stillHeld = new HashSet<>();
        Set<Lease> unknown = new HashSet<>();
        for (BatchLeases.Held h : leases.renew(settings.id(), settings.leaseTtl())) {
            Lease mine = held.get(h.lease().batchId());
            if (mine == null || mine.epoch() != h.lease().epoch()) {
                unknown.add(h.lease());
                continue; // claimed under an epoch this keeper does not know: not ours to act on
            }
            stillHeld.add(mine.batchId());
            // A batch still being taken over is not known to the listener yet: its kill waits for that.
            if (h.killRequested() && !takingOver.contains(mine.batchId()) && killsReported.add(mine.batchId())) {
                listener.killRequested(mine);
            }
        }
        for (Lease lease : before) {
            if (!stillHeld.contains(lease.batchId()) && !ending.contains(lease) && held.remove(lease.batchId(), lease)) {
                killsReported.remove(lease.batchId());
                log.warn("batch {}: lease lost to another replica (epoch {}); no longer tracked here",
                        lease.batchId(), lease.epoch());
                listener.lost(lease);
            }
        }
        // A claim in flight is known within one lease TTL (one answered later than that brought back a
        // lease already run out); a lease unknown for longer is tracked by nobody here, and renewing it
        // for ever would strand its batch: give it back to be claimed.
        long now = System.nanoTime();
        Map<Lease, Long> seen = new HashMap<>();
        for (Lease lease : unknown) {
            long since = strangers.getOrDefault(lease, now);
            if (now - since > settings.leaseTtl().toNanos() && !held.containsKey(lease.batchId())
                    && leases.release(lease)) {
                log.warn("batch {}: held in the database under epoch {} but tracked nowhere here; released",
                        lease.batchId(), lease.epoch());
            } else {
                seen.put(lease, since);
            }
        }
        strangers = seen;
    }

    /**
     * One scan: claims the free batches a lost replica had launched (all of them: they need no room to
     * start, and must move within one scan), then never-launched ones up to the spare capacity, and
     * hands each to the listener.
     */
    void scan() {
        List<BatchLeases.Held> claimed = new ArrayList<>(
                leases.claimFreeLaunched(settings.id(), MAX_TAKEN_OVER_PER_SCAN, settings.leaseTtl()));
        claimed.addAll(leases.claimFree(settings.id(), spareCapacity.getAsInt(), settings.leaseTtl()));
        for (BatchLeases.Held h : claimed) {
            held.put(h.lease().batchId(), h.lease());
            log.info("batch {}: claimed (epoch {}, {})", h.lease().batchId(), h.lease().epoch(), h.state());
            // Not waited for; a kill asked for it is reported after it (on this thread), when the batch is known.
            takingOver.add(h.lease().batchId());
            listener.claimed(h).whenComplete((ignored, failure) -> {
                takingOver.remove(h.lease().batchId());
                if (failure != null) {
                    log.warn("batch {}: taking it over failed: {}", h.lease().batchId(), failure.toString());
                }
                if (h.killRequested()) {
                    onScheduler(() -> reportKill(h));
                }
            });
        }
    }

    /**
     * Aims one scan {@value #AIM_AFTER_EXPIRY_MILLIS} ms after the first of the other replicas' live
     * leases runs out, so that a dead replica's batches are claimed as soon as they are free. A replica
     * that is alive renews before then, and the next renewal here moves the aimed scan to its new expiry
     * (so it seldom runs for nothing); the fixed scans go on regardless. On the scheduler thread.
     */
    void aimScan() {
        Optional<Duration> next = leases.nextExpiryOfOthers(settings.id());
        if (next.isEmpty()) {
            return;
        }
        long delayNanos = next.get().toNanos() + TimeUnit.MILLISECONDS.toNanos(AIM_AFTER_EXPIRY_MILLIS);
        long at = System.nanoTime() + delayNanos;
        ScheduledFuture<?> current = aimed;
        if (current != null && !current.isDone()) {
            if (Math.abs(at - aimedAt) < TimeUnit.MILLISECONDS.toNanos(AIM_AFTER_EXPIRY_MILLIS)) {
                return; // the same expiry as at the last renewal
            }
            current.cancel(false);
        }
        try {
            aimedAt = at;
            aimed = scheduler.schedule(this::scanQuietly, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopped) {
            // closing: nothing more is claimed
        }
    }

    /**
     * Scans at once (on the keeper's thread) rather than at the next interval: room to start a batch
     * was just made here, and a batch waiting for room should not wait for the schedule. Calls made
     * while one is pending fold into it.
     */
    public void scanSoon() {
        if (scanPending.compareAndSet(false, true)) {
            try {
                scheduler.execute(() -> {
                    scanPending.set(false);
                    scanQuietly();
                });
            } catch (RejectedExecutionException stopped) {
                scanPending.set(false); // closing: the leases run out by themselves
            }
        }
    }

    /** Runs {@code task} on the scheduler thread, unless the keeper is closing (then nothing is reported). */
    private void onScheduler(Runnable task) {
        try {
            scheduler.execute(task);
        } catch (RejectedExecutionException stopped) {
            log.debug("closing: a kill request is left to the next holder");
        }
    }

    private void renewQuietly() {
        try {
            renew();
        } catch (RuntimeException e) {
            // The database may be away for a moment; leases last several renewals.
            log.warn("lease renewal failed: {}", e.getMessage());
            return;
        }
        try {
            aimScan();
        } catch (RuntimeException e) {
            log.warn("reading the other replicas' next lease expiry failed: {}", e.getMessage()); // scans go on
        }
    }

    private void scanQuietly() {
        try {
            scan();
        } catch (RuntimeException e) {
            log.warn("lease scan failed: {}", e.getMessage());
        }
    }

    /** Stops renewing and scanning; held leases run out by themselves (a stop is like a crash to others). */
    @Override
    public void close() {
        if (renewal != null) {
            renewal.cancel(false);
        }
        if (scan != null) {
            scan.cancel(false);
        }
        ScheduledFuture<?> aimedScan = aimed;
        if (aimedScan != null) {
            aimedScan.cancel(false);
        }
        if (ownsScheduler) {
            scheduler.shutdownNow();
        }
    }
}
