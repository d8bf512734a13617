package io.sparkgate.server.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreTest {

    @TempDir
    Path dir;

    @Test
    void indexesCompleteLinesAsTheyAreWrittenAndServesExactPages() throws Exception {
        LogStore logs = new LogStore(dir);
        Path out = logs.outputFile(7);
        Files.createDirectories(out.getParent());
        write(out, "alpha\nbeta\ngam");

        assertThat(logs.advance(7, false)).isEqualTo(2);
        assertThat(logs.read(7, 0, 10).lines()).containsExactly("alpha", "beta");

        write(out, "ma\r\ndelta\n");
        assertThat(logs.advance(7, false)).isEqualTo(4);
        assertThat(logs.read(7, 1, 2).lines()).containsExactly("beta", "gamma");
        assertThat(logs.read(7, 2, -1).lines()).containsExactly("gamma", "delta");
        assertThat(logs.read(7, 4, 10).lines()).isEmpty();
        assertThat(logs.read(7, 99, 10).total()).isEqualTo(4);
        assertThat(logs.tail(7, 3)).containsExactly("beta", "gamma", "delta");
    }

    @Test
    void aLastLineWithoutTerminatorCountsOnceTheWriterIsGone() throws Exception {
        LogStore logs = new LogStore(dir);
        Path out = logs.outputFile(1);
        Files.createDirectories(out.getParent());
        write(out, "one\ntwo");

        assertThat(logs.advance(1, false)).isEqualTo(1);
        assertThat(logs.advance(1, true)).isEqualTo(2);
        assertThat(logs.read(1, 0, -1).lines()).containsExactly("one", "two");
    }

    @Test
    void aReopenedStoreKnowsItsLinesAndGoesOnIndexing() throws Exception {
        List<String> expected = new ArrayList<>();
        try (LogStore logs = new LogStore(dir)) {
            for (int i = 0; i < 20_000; i++) {
                logs.append(3, "line " + i);
                expected.add("line " + i);
            }
        }
        LogStore reopened = new LogStore(dir);
        assertThat(reopened.total(3)).isEqualTo(20_000);
        write(reopened.outputFile(3), "after restart\n");
        expected.add("after restart");

        assertThat(reopened.advance(3, false)).isEqualTo(20_001);
        assertThat(reopened.read(3, 0, -1).lines()).containsExactlyElementsOf(expected);
        assertThat(reopened.read(3, 12_345, 3).lines()).containsExactly("line 12345", "line 12346", "line 12347");
    }

    @Test
    void listenersHearOfNewLinesOnlyWhenThereAreSome() throws Exception {
        LogStore logs = new LogStore(dir);
        List<Long> heard = new ArrayList<>();
        logs.addListener((id, total) -> heard.add(total));
        Path out = logs.outputFile(2);
        Files.createDirectories(out.getParent());

        write(out, "partial");
        logs.advance(2, false);
        write(out, " line\nnext\n");
        logs.advance(2, false);
        logs.advance(2, false);

        assertThat(heard).containsExactly(2L);
    }

    @Test
    void deleteRemovesTheFilesAndAnUnknownBatchHasAnEmptyLog() {
        LogStore logs = new LogStore(dir);
        IntStream.range(0, 3).forEach(i -> logs.append(5, "x" + i));
        logs.delete(5);

        assertThat(logs.batchDir(5)).doesNotExist();
        assertThat(logs.total(5)).isZero();
        assertThat(logs.read(5, 0, 10).lines()).isEmpty();
    }

    @Test
    void aReleasedLogHoldsNoOpenFileAndStaysReadable() throws Exception {
        LogStore logs = new LogStore(dir);
        IntStream.range(0, 5).forEach(i -> logs.append(4, "line " + i));
        assertThat(openFilesUnder(logs.batchDir(4))).isNotEmpty(); // the writer's, while it writes

        logs.release(4);

        assertThat(openFilesUnder(logs.batchDir(4))).isEmpty();
        assertThat(logs.total(4)).isEqualTo(5);
        assertThat(logs.read(4, 1, 2).lines()).containsExactly("line 1", "line 2");
        assertThat(logs.tail(4, 2)).containsExactly("line 3", "line 4");
        assertThat(openFilesUnder(logs.batchDir(4))).as("reads open the files for the read alone").isEmpty();

        logs.append(4, "a notice after the end");
        assertThat(logs.tail(4, 1)).containsExactly("a notice after the end");
    }

    @Test
    void aReadWhileTheLogIsReleasedStillGetsItsLines() throws Exception {
        LogStore logs = new LogStore(dir);
        IntStream.range(0, 100).forEach(i -> logs.append(6, "line " + i));
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            for (int i = 0; i < 2_000; i++) {
                try {
                    assertThat(logs.read(6, 10, 3).lines()).containsExactly("line 10", "line 11", "line 12");
                } catch (Throwable t) {
                    failures.add(t);
                }
            }
        });
        reader.start();
        for (int i = 0; i < 2_000; i++) {
            logs.advance(6, false); // the writer's files open again
            logs.release(6);
        }
        reader.join();

        assertThat(failures).isEmpty();
    }

    /** This process's open files inside {@code dir}. */
    private static List<Path> openFilesUnder(Path dir) throws Exception {
        List<Path> open = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.startsWith(dir.toRealPath())) {
                        open.add(target);
                    }
                } catch (java.io.IOException e) {
                    // closed meanwhile
                }
            }
        }
        return open;
    }

    private static void write(Path file, String text) throws Exception {
        Files.write(file, text.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
