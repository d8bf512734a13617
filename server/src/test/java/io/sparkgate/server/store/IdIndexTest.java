package io.sparkgate.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The embedded store's id index: pages by position, kept up to date by commits, even during its load. */
class IdIndexTest {

    @Test
    void commitsReportedWhileTheIndexLoadsAreNotLost() {
        IdIndex index = new IdIndex();
        Supplier<List<Integer>> load = () -> {
            // Commits that land while the load's query runs: one it missed, one delete of a row it read,
            // and one insert it saw as well.
            index.added(50);
            index.removed(3);
            index.added(4);
            return List.of(1, 2, 3, 4);
        };
        assertThat(index.page(0, 10, false, load)).isEqualTo(new BatchStore.PageIds(List.of(1, 2, 4, 50), 4));
        assertThat(index.isLoaded()).isTrue();
    }

    @Test
    void pagesArePositionsInTheOrderAskedForAndFollowLaterCommits() {
        IdIndex index = new IdIndex();
        index.added(7); // before the load: the load reads it
        Supplier<List<Integer>> load = () -> List.of(0, 2, 5, 7);
        assertThat(index.page(1, 2, false, load).ids()).containsExactly(2, 5);
        assertThat(index.page(0, 3, true, load).ids()).containsExactly(7, 5, 2);
        index.added(9);
        index.added(3); // out of order (an id handed out before a later one's commit)
        index.removed(0);
        index.removed(42);
        assertThat(index.page(0, -1, false, () -> List.of()).ids()).containsExactly(2, 3, 5, 7, 9);
        assertThat(index.page(4, 10, false, () -> List.of())).isEqualTo(new BatchStore.PageIds(List.of(9), 5));
        assertThat(index.page(5, 10, false, () -> List.of()).ids()).isEmpty();
    }

    @Test
    void aFailedLoadIsTriedAgainByTheNextPage() {
        IdIndex index = new IdIndex();
        assertThatThrownBy(() -> index.page(0, 10, false, () -> {
            throw new IllegalStateException("database gone");
        })).hasMessage("database gone");
        assertThat(index.isLoaded()).isFalse();
        assertThat(index.page(0, 10, false, () -> List.of(1)).ids()).containsExactly(1);
    }
}
