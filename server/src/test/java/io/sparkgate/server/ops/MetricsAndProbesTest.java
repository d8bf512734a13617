package io.sparkgate.server.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.client.LogFollow;
import io.sparkgate.client.SparkgateClient;
import io.sparkgate.client.SparkgateException;
import io.sparkgate.server.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What an operator's Prometheus and orchestrator see of a server that ran real Spark applications: a
 * success, a failure and a kill each counted once, and probes that say live and ready.
 */
class MetricsAndProbesTest {

    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @RegisterExtension
    static final TestServer server = new TestServer();

    private static SparkgateClient client;

    @BeforeAll
    static void connect() {
        client = SparkgateClient.connect("127.0.0.1:" + server.port());
    }

    @AfterAll
    static void close() {
        client.close();
    }

    @Test
    void aSuccessAFailureAndAKillAreEachCountedOnce() throws Exception {
        Batch success = client.submit(app("io.sparkgate.examples.SparkPi", "2").setRequestId("pi-once").build());
        Batch failure = client.submit(app("io.sparkgate.examples.FailingApp").build());
        Batch killed = client.submit(app("io.sparkgate.examples.SleepingApp", "300").build());
        // The same request id again: the batch made the first time, nothing new.
        assertThat(client.submit(app("io.sparkgate.examples.SparkPi", "2").setRequestId("pi-once").build()).getId())
                .isEqualTo(success.getId());
        // Refused: no file.
        try {
            client.submit(CreateBatchRequest.newBuilder().setClassName("io.sparkgate.examples.SparkPi").build());
        } catch (SparkgateException expected) {
            // counted as rejected
        }

        await().atMost(Duration.ofMinutes(5)).until(() -> client.state(killed.getId()) == BatchState.BATCH_STATE_RUNNING);
        try (LogFollow follow = client.followLog(killed.getId(), 0)) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(scrape().valueOr0("sparkgate_log_followers{transport=\"grpc\"}")).isEqualTo(1));
            follow.hasNext(); // at least the first line arrived
        }
        client.kill(killed.getId());
        await().atMost(Duration.ofMinutes(5)).until(() -> client.state(success.getId()) == BatchState.BATCH_STATE_SUCCESS);
        await().atMost(Duration.ofMinutes(5)).until(() -> client.state(failure.getId()) == BatchState.BATCH_STATE_DEAD);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Scrape m = scrape();
            assertThat(m.valueOr0("sparkgate_batches_finished_total{state=\"success\"}")).isEqualTo(1);
            assertThat(m.valueOr0("sparkgate_batches_finished_total{state=\"dead\"}")).isEqualTo(1);
            assertThat(m.valueOr0("sparkgate_batches_finished_total{state=\"killed\"}")).isEqualTo(1);
            assertThat(m.valueOr0("sparkgate_log_followers{transport=\"grpc\"}")).isZero();
        });
        Scrape m = scrape();
        // Still once each, on a later scrape: no final state is counted again (e.g. by the delete after the kill).
        assertThat(m.valueOr0("sparkgate_batches_finished_total{state=\"success\"}")).isEqualTo(1);
        assertThat(m.valueOr0("sparkgate_batches_finished_total{state=\"dead\"}")).isEqualTo(1);
        assertThat(m.valueOr0("sparkgate_batches_finished_total{state=\"killed\"}")).isEqualTo(1);
        assertThat(m.valueOr0("sparkgate_batches_submitted_total{outcome=\"accepted\"}")).isEqualTo(3);
        assertThat(m.valueOr0("sparkgate_batches_submitted_total{outcome=\"deduplicated\"}")).isEqualTo(1);
        assertThat(m.valueOr0("sparkgate_batches_submitted_total{outcome=\"rejected\"}")).isEqualTo(1);
        // All three ran: each has a submit latency; each final one a run duration under its final state.
        assertThat(m.valueOr0("sparkgate_batch_submit_latency_seconds_count")).isEqualTo(3);
        assertThat(m.valueOr0("sparkgate_batch_run_duration_seconds_count{state=\"success\"}")).isEqualTo(1);
        assertThat(m.valueOr0("sparkgate_batch_run_duration_seconds_count{state=\"dead\"}")).isEqualTo(1);
        assertThat(m.valueOr0("sparkgate_batch_run_duration_seconds_count{state=\"killed\"}")).isEqualTo(1);
        assertThat(m.lines("sparkgate_batch_run_duration_seconds_bucket{state=\"success\",le=\"86400.0\"}")).hasSize(1);
        assertThat(m.lines("sparkgate_batch_launch_failures_total")).allMatch(line -> line.endsWith(" 0.0"));
        // Now: the deleted one is gone from the store, the other two are kept until retention.
        assertThat(m.valueOr0("sparkgate_batches{state=\"success\"}")).isEqualTo(1);
        assertThat(m.valueOr0("sparkgate_batches{state=\"dead\"}")).isEqualTo(1);
        assertThat(m.valueOr0("sparkgate_batches{state=\"running\"}")).isZero();
        assertThat(m.valueOr0("sparkgate_admission_waiting")).isZero();
        assertThat(m.valueOr0("sparkgate_log_streamed_bytes_total{transport=\"grpc\"}")).isPositive();
        assertThat(m.valueOr0("sparkgate_store_query_seconds_count{operation=\"insert\"}")).isEqualTo(3);
        assertThat(m.valueOr0("sparkgate_store_errors_total{operation=\"insert\"}")).isZero();
        // Request metrics of every service, as histograms (aggregatable), with the gRPC status.
        assertThat(m.lines("armeria_server_request_duration_seconds_bucket{"))
                .anyMatch(line -> line.contains("method=\"CreateBatch\"") && line.contains("le=\"0.005\""));
        assertThat(m.lines("armeria_server_requests_total{"))
                .anyMatch(line -> line.contains("method=\"CreateBatch\"") && line.contains("grpc_status=\"3\""));
        assertThat(m.lines("sparkgate_build_info{")).singleElement().asString().contains("version=\"0.1.0");
        assertThat(m.lines("jvm_memory_used_bytes")).isNotEmpty();
        assertThat(m.lines("process_uptime_seconds")).isNotEmpty();
    }

    @Test
    void openMetricsWhenAskedForIt() throws Exception {
        HttpResponse<String> res = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/metrics"))
                .header("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8").build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type").orElseThrow()).startsWith("application/openmetrics-text");
        assertThat(res.body()).contains("sparkgate_batches_submitted_total").endsWith("# EOF\n");
    }

    @Test
    void probesSayLiveAndReadyOverHttpAndGrpc() throws Exception {
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = get("/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"healthy\":true");

        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
            HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
            assertThat(health.check(HealthCheckRequest.newBuilder().build()).getStatus())
                    .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            assertThat(health.check(HealthCheckRequest.newBuilder().setService("sparkgate.v1.BatchService").build())
                    .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static CreateBatchRequest.Builder app(String className, String... args) {
        return CreateBatchRequest.newBuilder().setFile(EXAMPLES).setClassName(className).addAllArgs(java.util.List.of(args));
    }

    private static Scrape scrape() throws Exception {
        HttpResponse<String> res = get("/metrics");
        assertThat(res.statusCode()).isEqualTo(200);
        return new Scrape(res.body());
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
