package io.sparkgate.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.LogLine;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A client given several replicas keeps working when the one it talks to goes away, within the retry rules. */
class FailoverTest {

    private final FakeReplica a = new FakeReplica("a");
    private final FakeReplica b = new FakeReplica("b");

    @AfterEach
    void stopReplicas() {
        a.close();
        b.close();
    }

    private SparkgateClient clientOf(String servers) {
        return SparkgateClient.builder(servers).deadline(Duration.ofSeconds(10)).build();
    }

    @Test
    void callsGoToTheFirstServerAndMoveOnWhenItStops() {
        try (SparkgateClient client = clientOf(a.target() + "," + b.target())) {
            assertThat(client.get(1).getName()).isEqualTo("a");

            a.stop();

            assertThat(client.get(1).getName()).isEqualTo("b");
            assertThat(client.get(2).getName()).isEqualTo("b");
        }
    }

    @Test
    void anUnreachableFirstServerIsSkippedFromTheStart() throws IOException {
        try (SparkgateClient client = clientOf("127.0.0.1:" + closedPort() + "," + b.target())) {
            assertThat(client.get(7).getName()).isEqualTo("b");
        }
    }

    @Test
    void theListMayBeGivenAsAList() {
        try (SparkgateClient client = SparkgateClient.builder(List.of(a.target(), b.target())).build()) {
            a.stop();
            assertThat(client.get(3).getName()).isEqualTo("b");
        }
    }

    @Test
    void aSubmitWithoutRequestIdIsNotRepeatedOnAnotherServer() {
        a.diesOnCreate();
        try (SparkgateClient client = clientOf(a.target() + "," + b.target())) {
            CreateBatchRequest request = CreateBatchRequest.newBuilder().setFile("/app.jar").build();

            assertThatThrownBy(() -> client.submit(request))
                    .isInstanceOfSatisfying(SparkgateException.class,
                            e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

            assertThat(a.creates).hasSize(1);
            assertThat(b.creates).as("a blind retry could run the application twice").isEmpty();
        }
    }

    @Test
    void aSubmitWithRequestIdIsRepeatedOnTheNextServer() {
        a.diesOnCreate();
        try (SparkgateClient client = clientOf(a.target() + "," + b.target())) {
            CreateBatchRequest request = CreateBatchRequest.newBuilder().setFile("/app.jar").setRequestId("r-1").build();

            assertThat(client.submit(request).getName()).isEqualTo("b");

            assertThat(a.creates).extracting(CreateBatchRequest::getRequestId).containsExactly("r-1");
            assertThat(b.creates).extracting(CreateBatchRequest::getRequestId).containsExactly("r-1");
        }
    }

    @Test
    void aFollowWhoseServerDiesResumesOnTheNextAfterTheLastLineItGot() {
        a.diesAfterLines(4);
        try (SparkgateClient client = clientOf(a.target() + "," + b.target());
             LogFollow follow = client.followLog(1, 0)) {
            List<String> lines = new ArrayList<>();
            List<Integer> offsets = new ArrayList<>();
            follow.forEachRemaining((LogLine line) -> {
                lines.add(line.getText());
                offsets.add(line.getOffset());
            });

            assertThat(offsets).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            assertThat(lines).startsWith("a line 0", "a line 1", "a line 2", "a line 3", "b line 4");
            assertThat(b.streamsFrom).containsExactly(4);
            assertThat(follow.finalState()).contains(BatchState.BATCH_STATE_SUCCESS);
        }
    }

    @Test
    void whenEveryServerIsGoneTheCallFailsUnavailable() {
        try (SparkgateClient client = clientOf(a.target() + "," + b.target())) {
            a.stop();
            b.stop();

            assertThatThrownBy(() -> client.get(1))
                    .isInstanceOfSatisfying(SparkgateException.class,
                            e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        }
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
