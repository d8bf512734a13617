package io.sparkgate.server.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkgate.server.batch.LaunchQueue.Grant;
import io.sparkgate.server.batch.LaunchQueue.Ticket;
import io.sparkgate.server.config.AdmissionSettings;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LaunchQueueTest {

    /** Launches handed to the pool, run only when the test says so. */
    private final ArrayDeque<Runnable> pool = new ArrayDeque<>();
    private final List<Integer> launched = new ArrayList<>();
    private int nextId;

    private LaunchQueue queue(int maxStarting, int maxStartingPerUser, int maxRunning, int maxRunningPerUser,
                              int maxWaiting) {
        return new LaunchQueue(new AdmissionSettings(maxStarting, maxStartingPerUser, maxRunning, maxRunningPerUser,
                maxWaiting, Duration.ofSeconds(5)), pool::add, launched::add);
    }

    /** A create: reserve, record (the next id), submit; the ticket's id. */
    private int create(LaunchQueue queue, String user, List<Ticket> tickets) {
        Ticket ticket = queue.reserve(user);
        tickets.add(ticket);
        if (ticket.grant() == Grant.FULL) {
            return -1;
        }
        int id = nextId++;
        queue.submit(id, ticket);
        return id;
    }

    private void runLaunches() {
        while (!pool.isEmpty()) {
            pool.poll().run();
        }
    }

    @Test
    void startsThenWaitsThenRefusesAndWaitingBatchesStartInOrderNeverMoreThanTheStartingLimit() {
        LaunchQueue queue = queue(2, 0, 0, 0, 3);
        List<Ticket> tickets = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            create(queue, "", tickets);
        }
        assertThat(tickets).extracting(Ticket::grant).containsExactly(Grant.START, Grant.START,
                Grant.WAIT, Grant.WAIT, Grant.WAIT, Grant.FULL);
        assertThat(tickets.get(2).reason()).isEqualTo("waiting: 2 batches starting (limit 2)");
        assertThat(tickets.get(5).reason()).contains("too many batches are waiting");
        runLaunches();
        assertThat(launched).containsExactly(0, 1);
        assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(3, 2, 0));

        queue.started(0); // 0 runs: 2 may start
        runLaunches();
        assertThat(launched).containsExactly(0, 1, 2);
        queue.ended(1); // 1 failed to launch: 3 may start
        queue.started(2);
        queue.started(3);
        runLaunches();
        assertThat(launched).containsExactly(0, 1, 2, 3, 4);
        assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(0, 1, 3));
        for (int id = 0; id < 5; id++) {
            queue.ended(id);
        }
        assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(0, 0, 0));
        assertThat(queue.reserve("").grant()).isEqualTo(Grant.START);
    }

    @Test
    void overTheRunningLimitABatchWaitsUntilARunningOneEnds() {
        LaunchQueue queue = queue(2, 0, 1, 0, 10);
        List<Ticket> tickets = new ArrayList<>();
        int first = create(queue, "", tickets);
        int second = create(queue, "", tickets);
        int third = create(queue, "", tickets);
        assertThat(tickets.get(1).grant()).isEqualTo(Grant.WAIT);
        assertThat(tickets.get(1).reason()).isEqualTo("waiting: 1 batch running (limit 1)");

        queue.started(first);
        runLaunches();
        assertThat(launched).containsExactly(first); // running still counts

        queue.ended(first);
        runLaunches();
        assertThat(launched).containsExactly(first, second);
        queue.started(second);
        queue.ended(second);
        runLaunches();
        assertThat(launched).containsExactly(first, second, third);
    }

    @Test
    void aUserAtTheirLimitDoesNotHoldBackOtherUsersAndTheirOwnBatchesKeepTheirOrder() {
        LaunchQueue queue = queue(4, 0, 0, 1, 10);
        List<Ticket> tickets = new ArrayList<>();
        int alice1 = create(queue, "alice", tickets);
        int alice2 = create(queue, "alice", tickets);
        int alice3 = create(queue, "alice", tickets);
        int bob1 = create(queue, "bob", tickets);
        runLaunches();
        assertThat(tickets).extracting(Ticket::grant).containsExactly(Grant.START, Grant.WAIT, Grant.WAIT, Grant.START);
        assertThat(tickets.get(1).reason()).isEqualTo("waiting: user alice has 1 batch running (limit 1)");
        assertThat(launched).containsExactly(alice1, bob1);

        queue.ended(bob1); // frees nothing alice may use
        runLaunches();
        assertThat(launched).containsExactly(alice1, bob1);

        queue.ended(alice1);
        runLaunches();
        assertThat(launched).containsExactly(alice1, bob1, alice2);
        queue.ended(alice2);
        runLaunches();
        assertThat(launched).containsExactly(alice1, bob1, alice2, alice3);
    }

    @Test
    void theAnonymousOwnerIsOneUserAndThePerUserStartingLimitHoldsToo() {
        LaunchQueue queue = queue(4, 1, 0, 0, 10);
        List<Ticket> tickets = new ArrayList<>();
        int anon1 = create(queue, "", tickets);
        create(queue, "", tickets);
        int carol = create(queue, "carol", tickets);
        assertThat(tickets).extracting(Ticket::grant).containsExactly(Grant.START, Grant.WAIT, Grant.START);
        assertThat(tickets.get(1).reason()).isEqualTo("waiting: the anonymous user has 1 batch starting (limit 1)");
        queue.started(anon1);
        queue.started(carol);
        runLaunches();
        assertThat(launched).containsExactly(anon1, carol, 1);
    }

    @Test
    void underAGlobalLimitNoNewBatchOvertakesOneThatWaits() {
        LaunchQueue queue = queue(2, 0, 1, 2, 10);
        List<Ticket> tickets = new ArrayList<>();
        int alice1 = create(queue, "alice", tickets);
        int alice2 = create(queue, "alice", tickets);
        int bob1 = create(queue, "bob", tickets);
        assertThat(tickets.get(2).reason()).isEqualTo("waiting: 1 batch running (limit 1)");
        queue.ended(alice1);
        runLaunches();
        assertThat(launched).containsExactly(alice1, alice2);
        assertThat(queue.reserve("carol").grant()).isEqualTo(Grant.WAIT);
        queue.ended(alice2);
        runLaunches();
        assertThat(launched).containsExactly(alice1, alice2, bob1);
    }

    @Test
    void anEndedWaitingBatchFreesItsPlaceAndAReleasedTicketFreesWhatItReserved() {
        LaunchQueue queue = queue(1, 0, 0, 0, 1);
        List<Ticket> tickets = new ArrayList<>();
        int running = create(queue, "", tickets);
        int waiting = create(queue, "", tickets);
        assertThat(queue.reserve("").grant()).isEqualTo(Grant.FULL);

        queue.ended(waiting); // deleted while it waited
        Ticket place = queue.reserve("");
        assertThat(place.grant()).isEqualTo(Grant.WAIT);
        assertThat(queue.reserve("").grant()).isEqualTo(Grant.FULL);
        queue.release(place); // its insert failed
        assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(0, 1, 0));

        queue.ended(running);
        queue.ended(running); // reported twice: no harm
        Ticket start = queue.reserve("");
        assertThat(start.grant()).isEqualTo(Grant.START);
        queue.release(start);
        assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(0, 0, 0));
        assertThatThrownBy(() -> queue.submit(99, new Ticket(Grant.FULL, "", ""))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aBatchEndedBeforeItWasSubmittedIsFreedByTheSecondReport() {
        LaunchQueue queue = queue(1, 0, 0, 0, 5);
        Ticket ticket = queue.reserve("");
        queue.ended(7); // deleted between its insert and its submit: the queue does not know it yet
        queue.submit(7, ticket);
        queue.ended(7); // the manager reports it again after submitting
        assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(0, 0, 0));
        assertThat(queue.reserve("").grant()).isEqualTo(Grant.START);
    }

    @Test
    void recoveryCountsReattachedBatchesAndQueuesTheRestInOrderBeyondTheWaitingLimit() {
        LaunchQueue queue = queue(2, 0, 2, 0, 1);
        queue.adopt(0, "alice", false);
        queue.adopt(1, "bob", true);
        assertThat(queue.enqueue(2, "alice")).contains("waiting: 2 batches running (limit 2)");
        assertThat(queue.enqueue(3, "bob")).isPresent();
        assertThat(queue.enqueue(4, "carol")).isPresent();
        assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(3, 1, 1));
        assertThat(queue.reserve("dave").grant()).isEqualTo(Grant.FULL);

        queue.started(1);
        queue.ended(0);
        queue.ended(1);
        runLaunches();
        assertThat(launched).containsExactly(2, 3);
        queue.ended(3);
        runLaunches();
        assertThat(launched).containsExactly(2, 3, 4);
        assertThat(queue.enqueue(5, "erin")).contains("waiting: 2 batches running (limit 2)");
    }

    /**
     * Random creates, starts and ends against a model: after every step no limit is exceeded and no
     * waiting batch that could start is left waiting; at the end everything accepted was launched.
     */
    @Test
    void randomOperationsNeverExceedALimitNorLeaveAStartableBatchWaiting() {
        Random random = new Random(8);
        String[] users = {"", "alice", "bob", "carol"};
        int maxStarting = 2;
        int maxStartingPerUser = 1;
        int maxRunning = 4;
        int maxRunningPerUser = 2;
        LaunchQueue queue = queue(maxStarting, maxStartingPerUser, maxRunning, maxRunningPerUser, 6);
        Map<Integer, String> owner = new HashMap<>();
        Map<Integer, String> phase = new LinkedHashMap<>(); // waiting | starting | running | ended
        List<Ticket> tickets = new ArrayList<>();
        int accepted = 0;
        for (int step = 0; step < 5000; step++) {
            int op = random.nextInt(3);
            List<Integer> live = phase.entrySet().stream().filter(e -> !e.getValue().equals("ended"))
                    .map(Map.Entry::getKey).toList();
            if (op == 0 || live.isEmpty()) {
                String user = users[random.nextInt(users.length)];
                int id = create(queue, user, tickets);
                if (id >= 0) {
                    accepted++;
                    owner.put(id, user);
                    phase.put(id, tickets.get(tickets.size() - 1).grant() == Grant.START ? "starting" : "waiting");
                }
            } else {
                int id = live.get(random.nextInt(live.size()));
                if (op == 1 && phase.get(id).equals("starting")) {
                    queue.started(id);
                    phase.put(id, "running");
                } else if (op == 2) {
                    queue.ended(id); // exit, kill, launch failure, deadline or delete, in any phase
                    phase.put(id, "ended");
                }
            }
            while (!pool.isEmpty()) {
                pool.poll().run();
                int id = launched.get(launched.size() - 1);
                if (phase.get(id).equals("waiting")) {
                    phase.put(id, "starting");
                }
            }
            Map<String, int[]> perUser = new HashMap<>();
            int starting = 0;
            int running = 0;
            for (Map.Entry<Integer, String> e : phase.entrySet()) {
                int[] n = perUser.computeIfAbsent(owner.get(e.getKey()), u -> new int[2]);
                if (e.getValue().equals("starting")) {
                    starting++;
                    n[0]++;
                }
                if (e.getValue().equals("starting") || e.getValue().equals("running")) {
                    running++;
                    n[1]++;
                }
            }
            assertThat(starting).isLessThanOrEqualTo(maxStarting);
            assertThat(running).isLessThanOrEqualTo(maxRunning);
            for (int[] n : perUser.values()) {
                assertThat(n[0]).isLessThanOrEqualTo(maxStartingPerUser);
                assertThat(n[1]).isLessThanOrEqualTo(maxRunningPerUser);
            }
            assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(
                    (int) phase.values().stream().filter("waiting"::equals).count(), starting, running - starting));
            for (Map.Entry<Integer, String> e : phase.entrySet()) {
                if (e.getValue().equals("waiting")) {
                    int[] n = perUser.get(owner.get(e.getKey()));
                    boolean mayStart = starting < maxStarting && running < maxRunning
                            && n[0] < maxStartingPerUser && n[1] < maxRunningPerUser;
                    assertThat(mayStart).as("batch %d waits though it may start", e.getKey()).isFalse();
                }
            }
        }
        for (int id : new ArrayList<>(phase.keySet())) {
            queue.ended(id);
            runLaunches();
        }
        assertThat(queue.counts()).isEqualTo(new LaunchQueue.Counts(0, 0, 0));
        assertThat(accepted).isGreaterThan(500);
        assertThat(launched).doesNotHaveDuplicates();
        for (String user : users) {
            assertThat(launched.stream().filter(id -> owner.get(id).equals(user)).toList())
                    .as("%s's batches start in their order", user).isSorted();
        }
    }
}
