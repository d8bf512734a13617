package io.sparkgate.server;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.client.SparkgateClient;
import io.sparkgate.server.config.ConfigLoader;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client given two real servers on one PostgreSQL: when the one it talks to stops, the
 * client carries on with the other, which answers from the same database.
 */
class ClientFailoverTest {

    private EmbeddedPostgres postgres;
    private TestServer a;
    private TestServer b;

    @BeforeEach
    void startTwoServersOnOneDatabase(@TempDir Path tmp) throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        Map<String, String> store = Map.of(ConfigKeys.STORE_URL.name(), postgres.getJdbcUrl("postgres", "postgres"),
                ConfigKeys.STORE_USER.name(), "postgres", ConfigKeys.STORE_PASSWORD.name(), "postgres");
        a = TestServer.start(tmp.resolve("a"), store);
        b = TestServer.start(tmp.resolve("b"), store);
    }

    @AfterEach
    void stop() throws Exception {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        postgres.close();
    }

    @Test
    void whenTheFirstServerStopsTheClientCarriesOnWithTheSecond() {
        try (SparkgateClient client = SparkgateClient.builder("127.0.0.1:" + a.port() + ",127.0.0.1:" + b.port())
                .deadline(Duration.ofSeconds(20)).build()) {
            CreateBatchRequest pi = CreateBatchRequest.newBuilder()
                    .setFile(TestServer.EXAMPLES_JAR.toString()).setClassName("io.sparkgate.examples.SparkPi")
                    .addArgs("1").setRequestId("failover-pi").build();
            Batch created = client.submit(pi);
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> client.state(created.getId()) == BatchState.BATCH_STATE_SUCCESS);
            assertThat(a.getJson("/batches/" + created.getId()).get("state").asText())
                    .as("the first server took the calls").isEqualTo("success");

            a.close();
            a = null;

            assertThat(client.state(created.getId())).isEqualTo(BatchState.BATCH_STATE_SUCCESS);
            assertThat(client.list(0, 10).getSessionsList()).extracting(Batch::getId).contains(created.getId());
            Batch repeated = client.submit(pi);
            assertThat(repeated.getId()).as("the repeated create is answered with the batch there is")
                    .isEqualTo(created.getId());
            assertThat(client.list(0, 10).getTotal()).isEqualTo(1);
        }
    }
}
