package io.sparkgate.server.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Launches yield to a burst of creates, never to a steady stream, and a burst ends when creates stop. */
class CreateBurstTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final CreateBurst burst = new CreateBurst(nanos::get);

    @Test
    void aSteadyStreamOfCreatesNeverHoldsALaunchBack() {
        for (int i = 0; i < 200; i++) {
            burst.created();
            assertThat(burst.now()).isFalse();
            nanos.addAndGet(10_000_000L); // 100 creates a second
        }
    }

    @Test
    void manyCreatesAtOnceHoldLaunchesBackUntilTheyStop() {
        for (int i = 0; i < CreateBurst.BURST_CREATES - 1; i++) {
            burst.created();
            nanos.addAndGet(1_000_000L);
        }
        assertThat(burst.now()).as("one short of a burst").isFalse();
        burst.created();
        assertThat(burst.now()).isTrue();

        nanos.addAndGet(CreateBurst.WINDOW.toNanos() - 1_000_000L);
        assertThat(burst.now()).as("within the window after the last create").isTrue();
        burst.created(); // the burst's slower tail keeps it going
        nanos.addAndGet(CreateBurst.WINDOW.toNanos() - 1_000_000L);
        assertThat(burst.now()).as("within the window after a straggler").isTrue();
        nanos.addAndGet(2_000_000L);
        assertThat(burst.now()).as("the window after the last create has passed").isFalse();
    }

    @Test
    void aBurstThatNeverPausesHoldsLaunchesBackOnlyAtItsStart() {
        for (int i = 0; i < CreateBurst.BURST_CREATES; i++) {
            burst.created();
        }
        assertThat(burst.now()).isTrue();
        long end = nanos.get() + CreateBurst.MAX_WAIT.toNanos();
        while (nanos.get() < end) {
            nanos.addAndGet(1_000_000L);
            burst.created();
        }
        assertThat(burst.now()).as("a second into a burst that goes on").isFalse();
    }

    @Test
    void aLaunchWaitsForTheBurstToPass() {
        CreateBurst real = new CreateBurst(System::nanoTime);
        for (int i = 0; i < CreateBurst.BURST_CREATES; i++) {
            real.created();
        }
        assertThat(real.now()).isTrue();

        real.awaitCalm();

        assertThat(real.now()).isFalse();
    }
}
