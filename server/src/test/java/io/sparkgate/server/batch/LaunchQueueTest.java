package io.sparkgate.server.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LaunchQueueTest {

    /** Runs submitted launches only when the test says so, to look at the queue in between. */
    private final ArrayDeque<Runnable> pool = new ArrayDeque<>();
    private final List<Integer> launched = new ArrayList<>();
    private final LaunchQueue queue = new LaunchQueue(2, 3, pool::add, launched::add);

    @Test
    void slotsThenPlacesThenFullAndWaitingBatchesLaunchInOrderNeverMoreThanTheSlots() {
        List<LaunchQueue.Ticket> tickets = new ArrayList<>();
        for (int id = 0; id < 6; id++) {
            tickets.add(queue.reserve());
        }
        assertThat(tickets).containsExactly(LaunchQueue.Ticket.SLOT, LaunchQueue.Ticket.SLOT,
                LaunchQueue.Ticket.QUEUED, LaunchQueue.Ticket.QUEUED, LaunchQueue.Ticket.QUEUED,
                LaunchQueue.Ticket.FULL);
        for (int id = 0; id < 5; id++) {
            queue.submit(id, tickets.get(id));
        }
        assertThat(queue.inFlight()).isEqualTo(2);
        assertThat(pool).hasSize(2);

        pool.poll().run(); // launch 0 ends: 2 takes its slot
        assertThat(launched).containsExactly(0);
        assertThat(queue.inFlight()).isEqualTo(2);
        while (!pool.isEmpty()) {
            pool.poll().run();
            assertThat(queue.inFlight()).isLessThanOrEqualTo(2);
        }
        assertThat(launched).containsExactly(0, 1, 2, 3, 4);
        assertThat(queue.inFlight()).isZero();
        assertThat(queue.reserve()).isEqualTo(LaunchQueue.Ticket.SLOT);
    }

    @Test
    void aReleasedReservationFreesItsSlotOrPlace() {
        LaunchQueue.Ticket a = queue.reserve();
        LaunchQueue.Ticket b = queue.reserve();
        LaunchQueue.Ticket waiting = queue.reserve();
        queue.release(a);
        queue.release(waiting);

        assertThat(queue.inFlight()).isEqualTo(1);
        assertThat(queue.reserve()).isEqualTo(LaunchQueue.Ticket.SLOT);
        queue.release(b);
    }
}
