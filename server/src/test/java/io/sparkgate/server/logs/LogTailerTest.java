package io.sparkgate.server.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogTailerTest {

    @TempDir
    Path dir;

    @Test
    void indexesAnUnfollowedBatchAsItWritesThenDrainsItOnceItsWriterEnds() throws Exception {
        LogStore logs = new LogStore(dir);
        Path out = outputOf(logs, 4);
        AtomicBoolean ended = new AtomicBoolean();
        CountDownLatch drained = new CountDownLatch(1);
        try (LogTailer tailer = new LogTailer(logs, Duration.ofMillis(10), Duration.ofMillis(100))) {
            tailer.follow(4, ended::get, drained::countDown, () -> false);
            append(out, "first\nsecond\n");
            awaitLines(logs, 4, 2);

            append(out, "last, without newline");
            ended.set(true);
            tailer.wake();
            assertThat(drained.await(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(logs.read(4, 0, -1).lines()).containsExactly("first", "second", "last, without newline");
    }

    @Test
    void ticksAtTheFollowedPaceOnlyWhileSomeoneFollowsTheLogLive() throws Exception {
        LogStore logs = new LogStore(dir);
        Path out = outputOf(logs, 9);
        AtomicBoolean followed = new AtomicBoolean();
        // An idle pace of an hour: unfollowed, the batch is indexed only when the tailer is woken.
        try (LogTailer tailer = new LogTailer(logs, Duration.ofMillis(10), Duration.ofHours(1))) {
            CountDownLatch firstTick = new CountDownLatch(1);
            tailer.follow(9, () -> false, () -> { }, () -> {
                firstTick.countDown(); // asked after the tick's read
                return followed.get();
            });
            assertThat(firstTick.await(10, TimeUnit.SECONDS)).isTrue(); // the tick that following starts with, done
            append(out, "written while nobody follows\n");
            Thread.sleep(300); // thirty ticks of the followed pace
            assertThat(logs.total(9)).isZero();

            followed.set(true); // a follower comes, and wakes the tailer (as the batch layer does)
            tailer.wake();
            awaitLines(logs, 9, 1);
            append(out, "written while followed\n"); // no wake: the followed pace indexes it
            awaitLines(logs, 9, 2);
        }
        assertThat(logs.read(9, 0, -1).lines()).containsExactly("written while nobody follows", "written while followed");
    }

    /** The file an application of this batch writes its output to, its directory made. */
    private static Path outputOf(LogStore logs, int batchId) throws Exception {
        Path out = logs.outputFile(batchId);
        Files.createDirectories(out.getParent());
        return out;
    }

    private static void awaitLines(LogStore logs, int batchId, long lines) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (logs.total(batchId) < lines && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(logs.total(batchId)).isEqualTo(lines);
    }

    private static void append(Path out, String text) throws Exception {
        Files.writeString(out, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
