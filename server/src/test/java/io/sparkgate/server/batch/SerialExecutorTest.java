package io.sparkgate.server.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A caller that waits for its task anyway (a launch waiting for its batch's owner) runs it on its own
 * thread when the executor is idle, and never past or beside the executor's other tasks.
 */
class SerialExecutorTest {

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final SerialExecutor executor = new SerialExecutor(pool);

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void anIdleExecutorRunsTheTaskOnTheCallersThreadAsItsOwn() {
        Thread caller = Thread.currentThread();
        Thread[] ranOn = new Thread[1];
        boolean[] current = new boolean[1];

        assertThat(executor.tryRunHere(() -> {
            ranOn[0] = Thread.currentThread();
            current[0] = executor.isCurrent();
        })).isTrue();

        assertThat(ranOn[0]).isSameAs(caller);
        assertThat(current[0]).as("the task counts as the executor's own").isTrue();
        assertThat(executor.isCurrent()).isFalse();
    }

    @Test
    void aBusyExecutorRefusesSoTheCallerQueuesBehindWhatRuns() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> order = new CopyOnWriteArrayList<>();
        executor.execute(() -> {
            running.countDown();
            await().until(() -> release.getCount() == 0);
            order.add("first");
        });
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

        assertThat(executor.tryRunHere(() -> order.add("here"))).isFalse();
        executor.execute(() -> order.add("second"));
        release.countDown();

        await().until(() -> order.size() == 2);
        assertThat(order).containsExactly("first", "second");
    }

    @Test
    void tasksGivenWhileItRunsHereRunAfterItOnThePool() {
        List<String> order = new CopyOnWriteArrayList<>();
        executor.tryRunHere(() -> {
            executor.execute(() -> order.add("posted from inside"));
            order.add("here");
        });

        await().until(() -> order.size() == 2);
        assertThat(order).containsExactly("here", "posted from inside");
    }

    @Test
    void theTasksExceptionReachesTheCallerAndTheExecutorGoesOn() {
        assertThatThrownBy(() -> executor.tryRunHere(() -> {
            throw new IllegalStateException("store down");
        })).isInstanceOf(IllegalStateException.class).hasMessage("store down");

        assertThat(executor.tryRunHere(() -> { })).isTrue();
    }
}
