package io.sparkgate.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Group commit as a create burst meets it: writers that arrive during a commit share the next one. */
class GroupCommitTest {

    @Test
    @Timeout(60) // a safety net: a writer blocked behind the running group would hang here
    void writesArrivingDuringAGroupDoNotWaitAndShareTheNextGroup() throws Exception {
        CountDownLatch firstGroupRunning = new CountDownLatch(1);
        CountDownLatch releaseFirstGroup = new CountDownLatch(1);
        List<List<Integer>> groups = new CopyOnWriteArrayList<>();
        GroupCommit<Integer, String> commit = new GroupCommit<>(group -> {
            groups.add(group.stream().map(w -> w.item).toList());
            if (groups.size() == 1) {
                firstGroupRunning.countDown();
                await(releaseFirstGroup);
            }
            group.forEach(w -> w.succeed("row " + w.item));
        });

        CompletableFuture<CompletableFuture<String>> leader = CompletableFuture.supplyAsync(() -> commit.write(1));
        firstGroupRunning.await();
        // The first group is being committed: these return at once, with their writes still to do.
        CompletableFuture<String> second = commit.write(2);
        CompletableFuture<String> third = commit.write(3);
        assertThat(second).isNotDone();
        assertThat(third).isNotDone();

        releaseFirstGroup.countDown();
        // The leader goes on with what queued meanwhile before it returns.
        assertThat(leader.get().get()).isEqualTo("row 1");
        assertThat(second).isCompletedWithValue("row 2");
        assertThat(third).isCompletedWithValue("row 3");
        assertThat(groups).containsExactly(List.of(1), List.of(2, 3));
    }

    @Test
    void aLoneWriterRunsItsOwnWriteAndSeesItsFailure() {
        GroupCommit<Integer, String> commit = new GroupCommit<>(group -> {
            throw new IllegalStateException("database gone");
        });
        CompletableFuture<String> write = commit.write(1);
        assertThat(write).isCompletedExceptionally();
        assertThatThrownBy(write::join).isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(IllegalStateException.class).hasRootCauseMessage("database gone");
        // The next writer leads again.
        assertThat(commit.write(2)).isCompletedExceptionally();
    }

    @Test
    void aWriteTheRunnerLeftUndoneFailsInsteadOfHanging() {
        GroupCommit<Integer, String> commit = new GroupCommit<>(group -> { });
        assertThatThrownBy(commit.write(1)::join).hasCauseInstanceOf(IllegalStateException.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
