package io.sparkgate.server.batch;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkgate.server.logs.LogStore;
import io.sparkgate.server.store.JdbcBatchStore;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchFilter;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.StateChange;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pages of a long history of finished batches whose logs are gone from disk: what the store recorded is shown. */
class BatchReadsTest {

    private static final Instant T0 = Instant.parse("2026-01-02T03:04:05Z");

    @TempDir
    Path dir;

    @Test
    void everyPageShowsTheRecordedLogTailsAndOnlyPagesNearTheStartAreKept() {
        try (JdbcBatchStore store = JdbcBatchStore.open(JdbcBatchStore.embeddedUrl(dir.resolve("data")), "sparkgate", "");
             LogStore logs = new LogStore(dir.resolve("logs"))) {
            int n = BatchReads.KEPT_PAGES_BELOW + 50;
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int id = store.insert(finished("b" + i), "");
                store.saveLogTail(id, List.of("line of " + id, "last of " + id));
                ids.add(id);
            }
            BatchCache cache = new BatchCache();
            BatchReads reads = new BatchReads(store, new BatchLogs(logs, id -> false), cache,
                    id -> false);
            BatchFilter all = BatchFilter.all(Optional.empty());

            for (int from : List.of(0, n - 20)) {
                BatchPage page = reads.list(from, 10, all);
                assertThat(page.total()).isEqualTo(n);
                assertThat(page.batches()).extracting(Batch::id).isEqualTo(ids.subList(from, from + 10));
                for (Batch b : page.batches()) {
                    // As a list page shows each batch: its passing tail, else its own.
                    List<String> passing = page.passing().get(b.id());
                    List<String> shown = passing != null ? passing : reads.logTail(b, 10);
                    assertThat(shown).as("batch %d from %d", b.id(), from)
                            .containsExactly("line of " + b.id(), "last of " + b.id());
                }
            }
            // The first page's batches are kept for the next poll; the deep page's were only passing through.
            assertThat(cache.get(ids.get(0))).isNotNull();
            assertThat(cache.get(ids.get(n - 20))).isNull();
            assertThat(reads.list(0, 10, all).passing()).isEmpty();
        }
    }

    private static Batch finished(String name) {
        List<StateChange> history = List.of(new StateChange(BatchState.NOT_STARTED, T0, "submitted"),
                new StateChange(BatchState.SUCCESS, T0.plusSeconds(1), "exit code 0"));
        return new Batch(-1, BatchRequest.of("/jobs/app.jar").withName(name), "alice", "", "", "", history, T0);
    }
}
