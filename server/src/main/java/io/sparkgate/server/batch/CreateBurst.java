package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Whether creates are arriving in a burst, for launches to yield to them. A launch forks processes (the
 * wrapper, spark-submit, its JVM) that take the same cores as the creates being answered: measured on 2
 * cores, 200 concurrent creates answered with p99 635-890 ms while launches started among them, 324 ms
 * (1.3× a bare route's) when launches waited for the burst to pass, and the 200 were all running sooner
 * (3.7 s against 5.6 s). A batch created in a burst waits for its turn anyway; its client waits for the
 * answer that it is recorded.
 *
 * <p>A burst begins with {@value #BURST_CREATES} creates within {@link #WINDOW} and lasts until no create
 * has come for {@link #WINDOW}. A steady stream below that rate never holds a launch back, and a
 * burst holds launches back for at most {@link #MAX_WAIT} from its start, so a never-ending one still
 * launches at full pace after that (one bound per launch instead left a sustained stream of creates
 * launching 2 a second).
 *
 * <p>Thread-safe: creates are reported from the threads answering them, waits run on launch threads.
 */
final class CreateBurst {

    static final int BURST_CREATES = 20;
    static final Duration WINDOW = Duration.ofMillis(100);
    static final Duration MAX_WAIT = Duration.ofSeconds(1);
    private static final long POLL_MILLIS = 5;

    private final LongSupplier nanoClock;
    /** Arrival times of the last {@value #BURST_CREATES} creates, a ring; guarded by this. */
    private final long[] arrivals = new long[BURST_CREATES];
    private int next;
    private int seen;
    /** When (nanoTime) the current burst began and until when it lasts; guarded by this. */
    private long burstStart;
    private long burstUntil;
    private boolean inBurst;

    CreateBurst(LongSupplier nanoClock) {
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
    }

    /** A create has arrived. */
    synchronized void created() {
        long now = nanoClock.getAsLong();
        arrivals[next] = now;
        next = (next + 1) % BURST_CREATES;
        seen = Math.min(seen + 1, BURST_CREATES);
        // The slot written next holds the oldest of the last BURST_CREATES, this one included.
        // Once in a burst, every create extends it: its tail arrives slower than its middle.
        boolean extending = inBurst && now - burstUntil < 0;
        if (extending || seen == BURST_CREATES && now - arrivals[next] < WINDOW.toNanos()) {
            if (!extending) {
                burstStart = now;
            }
            burstUntil = now + WINDOW.toNanos();
            inBurst = true;
        }
    }

    /**
     * Whether a launch should wait now: in a burst that began less than {@link #MAX_WAIT} ago. A stream of
     * creates that never pauses holds launches back once, then they start at their pace.
     */
    synchronized boolean now() {
        long now = nanoClock.getAsLong();
        return inBurst && now - burstUntil < 0 && now - burstStart < MAX_WAIT.toNanos();
    }

    /** Waits, on the calling launch thread, while a burst lasts, at most {@link #MAX_WAIT}. */
    void awaitCalm() {
        long start = nanoClock.getAsLong();
        while (now() && nanoClock.getAsLong() - start < MAX_WAIT.toNanos()) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // stopping: launch now, the pool's shutdown decides the rest
                return;
            }
        }
    }
}
