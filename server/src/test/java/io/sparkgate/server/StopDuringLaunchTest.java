package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sparkgate.server.config.ConfigKeys;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator stops the server (SIGTERM) right after a client created a batch, while its Spark
 * application is being launched. A SparkContext connects back to the process that launched it a few
 * seconds after its launch and fails if that process is gone; the server therefore finishes the launch
 * and waits for the connection before it exits. The batch runs on, and the next server reports how it
 * ended: `success`, not `dead`.
 */
class StopDuringLaunchTest {

    @TempDir
    Path tmp;

    private final List<ServerProcess> servers = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        for (ServerProcess server : servers) {
            server.close();
        }
        // A driver outlives its server by design: leave none of this test's behind.
        try (var dirs = Files.list(tmp.resolve("data/batches"))) {
            dirs.map(d -> d.resolve("pid")).filter(Files::exists).forEach(pid -> {
                try {
                    ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).ifPresent(p -> {
                        p.descendants().forEach(ProcessHandle::destroyForcibly);
                        p.destroyForcibly();
                    });
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    @Test
    void aSparkContextLaunchedAsTheServerStopsRunsToSuccess() throws Exception {
        Path data = tmp.resolve("data");
        List<String> conf = new ArrayList<>(ServerProcess.testConf());
        conf.add(ConfigKeys.DRAIN_GRACE.name() + " = 0s");
        conf.add(ConfigKeys.DRAIN_TIMEOUT.name() + " = 90s");
        ServerProcess first = ServerProcess.start(data, tmp, "first", conf, java.util.Map.of());
        servers.add(first);

        HttpResponse<String> created = first.call("POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.SparkPi", "args": ["1"]}
                """.formatted(TestServer.EXAMPLES_JAR));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        int id = Integer.parseInt(created.body().replaceAll("(?s).*\"id\":(\\d+).*", "$1"));
        assertThat(first.stop(Duration.ofSeconds(120))).as("the server exits by itself:\n%s", first.output())
                .isTrue();

        ServerProcess next = ServerProcess.start(data, tmp, "next", conf, java.util.Map.of());
        servers.add(next);
        String state = "/batches/" + id + "/state";
        await().atMost(Duration.ofMinutes(3)).until(() ->
                Set.of("success", "dead", "killed").contains(next.getJson(state).get("state").asText()));
        assertThat(next.getJson(state).get("state").asText())
                .as("batch %d: %s%nfirst server:%n%s", id, next.call("GET", "/batches/" + id + "/log?size=300", null)
                        .body(), first.output())
                .isEqualTo("success");
    }
}
