package io.sparkgate.server.batch;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.function.IntConsumer;

/**
 * Admission and order of launches: at most {@code slots} launches at once, then at most
 * {@code capacity} batches waiting, first come first served. A batch is told which it is before it is
 * recorded, so its first state is exact: {@code starting} when it got a slot, {@code not_started} when
 * it waits; a full queue refuses it before anything is recorded.
 */
final class LaunchQueue {

    /** What {@link #reserve()} granted. */
    enum Ticket { SLOT, QUEUED, FULL }

    private final int slots;
    private final int capacity;
    private final Executor pool;
    private final IntConsumer launch;
    private final ArrayDeque<Integer> waiting = new ArrayDeque<>();
    private int inFlight;
    private int reservedPlaces;

    /**
     * @param pool runs launches; it never gets more than {@code slots} at once
     * @param launch launches one batch (and moves a waiting one to {@code starting} first)
     */
    LaunchQueue(int slots, int capacity, Executor pool, IntConsumer launch) {
        this.slots = slots;
        this.capacity = capacity;
        this.pool = requireNonNull(pool, "pool");
        this.launch = requireNonNull(launch, "launch");
    }

    /** Reserves a slot, else a place in the queue, else nothing. */
    synchronized Ticket reserve() {
        if (inFlight < slots && waiting.isEmpty() && reservedPlaces == 0) {
            inFlight++;
            return Ticket.SLOT;
        }
        if (waiting.size() + reservedPlaces >= capacity) {
            return Ticket.FULL;
        }
        reservedPlaces++;
        return Ticket.QUEUED;
    }

    /** Gives back a reservation whose batch was not recorded after all. */
    synchronized void release(Ticket ticket) {
        if (ticket == Ticket.SLOT) {
            inFlight--;
            dispatch();
        } else if (ticket == Ticket.QUEUED) {
            reservedPlaces--;
            dispatch();
        }
    }

    /** The batch is recorded: launch it now (a slot) or when its turn comes (a place). */
    void submit(int batchId, Ticket ticket) {
        if (ticket == Ticket.SLOT) {
            pool.execute(() -> run(batchId));
            return;
        }
        synchronized (this) {
            reservedPlaces--;
            waiting.add(batchId);
            dispatch();
        }
    }

    /** Queues a recorded batch without a reservation (recovery); false when the queue is full. */
    synchronized boolean enqueue(int batchId) {
        if (waiting.size() + reservedPlaces >= capacity) {
            return false;
        }
        waiting.add(batchId);
        dispatch();
        return true;
    }

    /** Launches going on now. */
    synchronized int inFlight() {
        return inFlight;
    }

    private void run(int batchId) {
        try {
            launch.accept(batchId);
        } finally {
            synchronized (this) {
                inFlight--;
                dispatch();
            }
        }
    }

    private void dispatch() {
        while (inFlight < slots && !waiting.isEmpty()) {
            int next = waiting.poll();
            inFlight++;
            pool.execute(() -> run(next));
        }
    }
}
