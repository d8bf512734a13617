package io.sparkgate.server.ui;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AdmissionSettings;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.store.JdbcBatchStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web UI's figures, in a real headless Chromium against a real server (not part of the test suite:
 * its name matches no surefire pattern; run it with {@code ./mvnw -B -pl server -am verify
 * -Dtest=WebUiBenchmark -Dsurefire.failIfNoSpecifiedTests=false}). Writes {@code target/ui-benchmark.md}.
 *
 * <ul>
 *   <li>first render of the list with 10,000 stored batches, against 20 stored batches (same page size);
 *   <li>a state change to the page showing it (p50/p99), against a plain SSE client of the same feed;
 *   <li>the tab's JS heap after following a 100,000-line log to its end, against a 1,000-line one.
 * </ul>
 * Batches run through the bench's stand-in spark-submit ({@code bench/stub-spark-home}): the figures are
 * about the page and the feeds, not about Spark's start-up.
 */
class WebUiBenchmark {

    private static final Path STUB_SPARK_HOME = Path.of("../bench/stub-spark-home").toAbsolutePath().normalize();
    private static final Path REPORT = Path.of("target", "ui-benchmark.md");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final List<String> report = new ArrayList<>();

    @Test
    void figures() throws Exception {
        ChromeDriver browser = HeadlessChromium.start("--enable-precise-memory-info", "--js-flags=--expose-gc");
        try {
            report.add("# Web UI figures (" + Instant.now() + ", " + Runtime.getRuntime().availableProcessors()
                    + " cores, load " + String.format("%.1f", java.lang.management.ManagementFactory
                    .getOperatingSystemMXBean().getSystemLoadAverage()) + ")");
            firstRender(browser);
            stateChangeToPage(browser);
            followingMemory(browser);
        } finally {
            browser.quit();
            Files.createDirectories(REPORT.getParent());
            Files.write(REPORT, report);
            report.forEach(System.out::println);
        }
    }

    private void firstRender(ChromeDriver browser) throws Exception {
        double[] medians = new double[2];
        int[] sizes = {20, 10_000};
        for (int k = 0; k < sizes.length; k++) {
            Path dir = Files.createTempDirectory("sparkgate-ui-bench");
            seed(dir, sizes[k]);
            try (TestServer server = TestServer.start(dir, Map.of(ConfigKeys.SPARK_HOME.name(), STUB_SPARK_HOME.toString()))) {
                List<Double> times = new ArrayList<>();
                for (int i = 0; i < 13; i++) {
                    browser.get(server.baseUrl() + "/ui/");
                    double t = renderedAt(browser);
                    assertThat(browser.findElement(By.id("range")).getText()).endsWith("of " + sizes[k]);
                    if (i >= 3) {
                        times.add(t); // after 3 warm-up loads (JIT, caches)
                    }
                }
                Collections.sort(times);
                medians[k] = times.get(times.size() / 2);
            }
        }
        report.add("");
        report.add("## First render of the list (navigation start to the first page of 20 rows shown; median of 10)");
        report.add(String.format("- 10,000 stored batches: %.0f ms; baseline 20 stored batches: %.0f ms; ratio %.2f",
                medians[1], medians[0], medians[1] / medians[0]));
    }

    private static double renderedAt(ChromeDriver browser) {
        return ((Number) new WebDriverWait(browser, Duration.ofMinutes(1), Duration.ofMillis(20)).until(d ->
                browser.executeScript("const m = performance.getEntriesByName('sparkgate:list-rendered');"
                        + "return m.length ? m[0].startTime : null;"))).doubleValue();
    }

    /** {@code n} finished batches written straight into a fresh store, as a long-lived server would have them. */
    private static void seed(Path dir, int n) throws Exception {
        String url = JdbcBatchStore.embeddedUrl(dir);
        JdbcBatchStore.open(url, "sparkgate", "").close(); // the schema
        Instant now = Instant.now();
        try (Connection c = DriverManager.getConnection(url, "sparkgate", "")) {
            c.setAutoCommit(false);
            try (PreparedStatement b = c.prepareStatement("INSERT INTO batches (request, owner, state, app_id, "
                    + "spark_ui_url, driver_log_url, created_time, finished_time, proxy_user, name) "
                    + "VALUES (?, 'alice', 'SUCCESS', ?, '', '', ?, ?, '', ?)");
                 PreparedStatement h = c.prepareStatement("INSERT INTO batch_state_changes (batch_id, seq, state, "
                    + "entered_time, reason) VALUES (?, ?, ?, ?, ?)")) {
                for (int i = 0; i < n; i++) {
                    Timestamp created = Timestamp.from(now.minusSeconds(n - i));
                    Timestamp ended = Timestamp.from(now.minusSeconds(n - i).plusMillis(900));
                    b.setString(1, "{\"file\":\"/jobs/etl.jar\",\"className\":\"com.example.Etl\",\"name\":\"etl-" + i + "\"}");
                    b.setString(2, "local-" + (1_700_000_000_000L + i));
                    b.setTimestamp(3, created);
                    b.setTimestamp(4, ended);
                    b.setString(5, "etl-" + i);
                    b.addBatch();
                    String[] states = {"STARTING", "RUNNING", "SUCCESS"};
                    for (int s = 0; s < states.length; s++) {
                        h.setInt(1, i);
                        h.setInt(2, s);
                        h.setString(3, states[s]);
                        h.setTimestamp(4, s == 2 ? ended : created);
                        h.setString(5, "seeded");
                        h.addBatch();
                    }
                    if (i % 1000 == 999) {
                        b.executeBatch();
                        h.executeBatch();
                    }
                }
                b.executeBatch();
                h.executeBatch();
            }
            c.commit();
        }
    }

    private void stateChangeToPage(ChromeDriver browser) throws Exception {
        Path dir = Files.createTempDirectory("sparkgate-ui-bench");
        int batches = 60;
        try (TestServer server = TestServer.start(dir, Map.of(ConfigKeys.SPARK_HOME.name(), STUB_SPARK_HOME.toString(),
                ConfigKeys.MAX_STARTING.name(), "8"))) {
            browser.get(server.baseUrl() + "/ui/?size=100");
            new WebDriverWait(browser, Duration.ofMinutes(1)).until(d ->
                    "live".equals(d.findElement(By.id("live")).getText()));
            browser.executeScript("window.__seen = {};"
                    + "new MutationObserver(() => { const now = Date.now();"
                    + "  for (const tr of document.querySelectorAll('#rows tr')) {"
                    + "    const k = tr.dataset.id + ':' + tr.dataset.state; if (!(k in window.__seen)) window.__seen[k] = now; }"
                    + "}).observe(document.getElementById('rows'), {childList: true, subtree: true});");
            // The baseline: a plain SSE client of the same feed, on the same machine and clock.
            Map<String, Long> sseSeen = new ConcurrentHashMap<>();
            HttpResponse<Stream<String>> sse = HTTP.send(HttpRequest.newBuilder(
                    URI.create(server.baseUrl() + "/watch/batches")).build(), HttpResponse.BodyHandlers.ofLines());
            Thread reader = new Thread(() -> sse.body().filter(l -> l.startsWith("data: ")).forEach(l -> {
                long now = System.currentTimeMillis();
                try {
                    JsonNode b = JSON.readTree(l.substring(6));
                    sseSeen.putIfAbsent(b.get("id").asInt() + ":" + b.get("state").asText(), now);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
            reader.setDaemon(true);
            reader.start();
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < batches; i++) {
                HttpResponse<String> res = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"file\":\"" + TestServer.EXAMPLES_JAR
                                + "\",\"className\":\"io.sparkgate.examples.NumberedLines\",\"args\":[\"3\"]}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(res.statusCode()).as(res.body()).isEqualTo(201);
                ids.add(JSON.readTree(res.body()).get("id").asInt());
            }
            new WebDriverWait(browser, Duration.ofMinutes(5), Duration.ofMillis(200)).until(d -> ids.stream()
                    .allMatch(id -> Boolean.TRUE.equals(browser.executeScript(
                            "return window.__seen['" + id + ":success'] !== undefined;"))));
            @SuppressWarnings("unchecked")
            Map<String, Number> pageSeen = (Map<String, Number>) browser.executeScript("return window.__seen;");
            List<Long> page = new ArrayList<>();
            List<Long> plain = new ArrayList<>();
            for (int id : ids) {
                for (JsonNode change : server.getJson("/batches/" + id).get("stateHistory")) {
                    String key = id + ":" + change.get("state").asText();
                    long at = Instant.parse(change.get("time").asText()).toEpochMilli();
                    if (pageSeen.containsKey(key)) {
                        page.add(pageSeen.get(key).longValue() - at);
                    }
                    if (sseSeen.containsKey(key)) {
                        plain.add(sseSeen.get(key) - at);
                    }
                }
            }
            sse.body().close();
            report.add("");
            report.add("## A state change to the page showing it (" + batches + " batches created while the list is "
                    + "open; server's state time to the row's change in the DOM, same clock)");
            report.add(String.format("- page: %d changes seen, p50 %d ms, p99 %d ms (target p99 < 100 ms)",
                    page.size(), pct(page, 50), pct(page, 99)));
            report.add(String.format("- baseline, a plain SSE client of /watch/batches: %d changes, p50 %d ms, p99 %d ms;"
                    + " ratio of p99 %.2f", plain.size(), pct(plain, 50), pct(plain, 99),
                    (double) pct(page, 99) / Math.max(1, pct(plain, 99))));
            report.add("- (a change the page had not drawn before the next one of the same batch arrived is folded into "
                    + "it and counts as not seen)");
        }
    }

    private void followingMemory(ChromeDriver browser) throws Exception {
        Path dir = Files.createTempDirectory("sparkgate-ui-bench");
        try (TestServer server = TestServer.start(dir, Map.of(ConfigKeys.SPARK_HOME.name(), STUB_SPARK_HOME.toString()))) {
            long[] heap = new long[2];
            long[] rows = new long[2];
            long[] millis = new long[2];
            int[] lines = {1_000, 100_000};
            for (int k = 0; k < lines.length; k++) {
                HttpResponse<String> res = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"file\":\"" + TestServer.EXAMPLES_JAR
                                + "\",\"className\":\"io.sparkgate.examples.NumberedLines\",\"args\":[\"" + lines[k]
                                + "\"]}")).build(), HttpResponse.BodyHandlers.ofString());
                int id = JSON.readTree(res.body()).get("id").asInt();
                long start = System.nanoTime();
                browser.get(server.baseUrl() + "/ui/batch.html?id=" + id);
                new WebDriverWait(browser, Duration.ofMinutes(5), Duration.ofMillis(100)).until(d ->
                        "true".equals(d.findElement(By.id("log")).getAttribute("data-ended")));
                millis[k] = (System.nanoTime() - start) / 1_000_000;
                heap[k] = ((Number) browser.executeScript("gc(); return performance.memory.usedJSHeapSize;")).longValue();
                rows[k] = ((Number) browser.executeScript("return document.querySelectorAll('#log .line').length;"))
                        .longValue();
                assertThat(browser.findElement(By.id("log")).getText()).contains("line " + (lines[k] - 1));
            }
            report.add("");
            report.add("## Following a log to its end in the batch page (JS heap after GC, rows in the page)");
            report.add(String.format("- 100,000 lines: heap %.1f MB, %d rows, %d ms to the end; baseline 1,000 lines: "
                    + "heap %.1f MB, %d rows, %d ms; heap ratio %.2f", heap[1] / 1e6, rows[1], millis[1],
                    heap[0] / 1e6, rows[0], millis[0], (double) heap[1] / heap[0]));
        }
    }

    private static long pct(List<Long> values, int p) {
        if (values.isEmpty()) {
            return -1;
        }
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
