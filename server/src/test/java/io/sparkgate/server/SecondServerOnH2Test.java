package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Only one server may use an embedded H2 database; a second one is told that replicas need PostgreSQL. */
class SecondServerOnH2Test {

    @Test
    void aSecondServerOnTheSameDataDirectoryStopsSayingReplicasNeedPostgresql(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        try (ServerProcess first = ServerProcess.start(data, tmp, "first")) {
            ServerProcess.Exit second = ServerProcess.startExpectingRefusal(data, tmp, "second");

            assertThat(second.code()).as(second.output()).isEqualTo(2);
            assertThat(second.output()).contains("is in use by another server; several servers (replicas) need a "
                    + "shared PostgreSQL database (sparkgate.store.url = jdbc:postgresql://...)");
            assertThat(first.call("GET", "/batches", null).statusCode()).as("the first one carries on").isEqualTo(200);
        }
    }
}
