package io.sparkgate.server.ui;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AuthSettings;
import io.sparkgate.server.security.CredentialHashes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web UI in a real browser (Debian's headless Chromium through its chromedriver) against a real
 * server with basic auth and real Spark applications through spark-submit: a user watches the list
 * change live, pages to the oldest batch, filters, follows a running application's log, sees markup
 * in a log line as text, leaves a page and comes back to it, and kills a batch that another user may
 * not kill. Every step leaves a
 * screenshot in {@code target/ui-screenshots/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebUiBrowserTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String XSS = "<img src=x onerror=\"window.__xss=1\">";

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.AUTH_MODE.name(), "basic",
            ConfigKeys.USERS_FILE.name(), usersFile("alice", "bob").toString()));

    private static ChromeDriver browser;
    private static WebDriverWait wait;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static int markup;
    private static int following;
    private static int longRunner;

    @BeforeAll
    static void browserAndBatches() {
        // Batches first, so Spark starts while the browser does.
        markup = create("alice", "<b>markup</b> needle", "io.sparkgate.examples.EchoArgs", XSS);
        following = create("alice", "follow-me needle", "io.sparkgate.examples.NumberedLines", "3");
        longRunner = create("alice", "long-runner", "io.sparkgate.examples.NumberedLines", "100000", "1000");

        browser = HeadlessChromium.start();
        wait = new WebDriverWait(browser, Duration.ofMinutes(3), Duration.ofMillis(100));
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    @Order(1)
    void theRootLeadsToTheUiBehindTheApiAuthenticationWithAPolicyAgainstInlineScripts() throws Exception {
        HttpResponse<String> root = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/"))
                .header("Authorization", basic("alice")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(root.statusCode()).isEqualTo(302);
        assertThat(root.headers().firstValue("location")).hasValue("ui/");
        HttpResponse<String> anonymous = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/ui/"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("www-authenticate")).hasValueSatisfying(v ->
                assertThat(v).startsWith("Basic")); // the browser's own prompt
        HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/ui/"))
                .header("Authorization", basic("alice")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-security-policy")).hasValueSatisfying(csp ->
                assertThat(csp).contains("script-src 'self'").doesNotContain("unsafe-inline"));
        assertThat(page.body()).doesNotContainPattern("<script(?![^>]*\\bsrc=)");
    }

    @Test
    @Order(2)
    void theListShowsBatchesWithTheirStatesAndANewBatchAppearsAndSucceedsWithoutAReload() {
        as("alice");
        browser.get(server.baseUrl() + "/ui/?size=2");
        wait.until(d -> rowIds().contains(longRunner));
        assertThat(stateOf(longRunner)).isIn("not_started", "starting", "running");
        assertThat(rowIds()).containsExactly(longRunner, following); // newest first
        screenshot("1-list");
        js("window.__samePage = true;");

        int fresh = create("alice", "fresh", "io.sparkgate.examples.NumberedLines", "3");
        wait.until(d -> rowIds().contains(fresh));
        screenshot("2-list-new-batch");
        wait.until(d -> "success".equals(stateOf(fresh)));
        assertThat(js("return window.__samePage === true;")).isEqualTo(true);
        assertThat(rowIds().get(0)).isEqualTo(fresh);
        assertThat(browser.findElement(By.id("range")).getText()).endsWith("of 4");
        screenshot("3-list-new-batch-success");
    }

    @Test
    @Order(3)
    void pagingReachesTheOldestBatch() {
        as("alice");
        browser.get(server.baseUrl() + "/ui/?size=2");
        wait.until(d -> !rowIds().isEmpty());
        while (browser.findElement(By.id("next")).isEnabled()) {
            List<Integer> before = rowIds();
            browser.findElement(By.id("next")).click();
            wait.until(d -> !rowIds().isEmpty() && !rowIds().equals(before));
        }
        assertThat(rowIds()).last().isEqualTo(markup);
        screenshot("4-list-oldest-page");
    }

    @Test
    @Order(4)
    void aFilterNarrowsTheListAndBatchTextStaysText() {
        as("alice");
        browser.get(server.baseUrl() + "/ui/");
        wait.until(d -> rowIds().size() == 4);
        browser.findElement(By.id("f-name")).sendKeys("needle");
        browser.findElement(By.id("f-apply")).click();
        wait.until(d -> d.getCurrentUrl().contains("name=needle") && rowIds().size() == 2);
        assertThat(rowIds()).containsExactly(following, markup);
        WebElement name = browser.findElement(By.cssSelector("tr[data-id='" + markup + "'] td.name"));
        assertThat(name.getText()).isEqualTo("<b>markup</b> needle");
        assertThat(name.findElements(By.tagName("b"))).isEmpty();
        screenshot("5-list-filtered");
        // The filter is in the address: the same view for whoever opens it.
        browser.get(browser.getCurrentUrl());
        wait.until(d -> rowIds().size() == 2);
        assertThat(browser.findElement(By.id("f-name")).getAttribute("value")).isEqualTo("needle");
    }

    @Test
    @Order(5)
    void theBatchPageFollowsARunningApplicationsLogLive() {
        as("alice");
        int live = create("alice", "live-log", "io.sparkgate.examples.NumberedLines", "40", "300");
        browser.get(server.baseUrl() + "/ui/batch.html?id=" + live);
        wait.until(d -> !d.findElement(By.id("state")).getText().isEmpty());
        assertThat(browser.findElement(By.id("state")).getText()).as("opened before the application ended")
                .isIn("not_started", "starting", "running");
        wait.until(d -> logText().contains("line 0"));
        screenshot("6-batch-following");
        wait.until(d -> logText().contains("line 39"));
        wait.until(d -> "success".equals(d.findElement(By.id("state")).getText()));
        wait.until(d -> "true".equals(d.findElement(By.id("log")).getAttribute("data-ended")));
        // Every line once, in order: none lost, none twice.
        List<String> numbered = browser.findElements(By.cssSelector("#log .text")).stream().map(WebElement::getText)
                .filter(t -> t.startsWith("line ")).toList();
        assertThat(numbered).hasSize(40).first().isEqualTo("line 0");
        assertThat(numbered).last().isEqualTo("line 39");
        assertThat(browser.findElement(By.id("request")).getText()).contains("io.sparkgate.examples.NumberedLines")
                .contains("40").contains("300");
        assertThat(browser.findElements(By.cssSelector("#history tr[data-state='running']"))).hasSize(1);
        assertThat(browser.findElements(By.cssSelector("#history tr[data-state='success']"))).hasSize(1);
        screenshot("7-batch-ended");
    }

    @Test
    @Order(6)
    void aLogLineWithMarkupStaysText() {
        as("alice");
        browser.get(server.baseUrl() + "/ui/batch.html?id=" + markup);
        wait.until(d -> logText().contains("arg[0]="));
        assertThat(logText()).contains("arg[0]=" + XSS);
        assertThat(browser.findElements(By.cssSelector("#log img"))).isEmpty();
        assertThat(js("return window.__xss === undefined;")).isEqualTo(true);
        assertThat(browser.findElement(By.id("title")).getText()).contains("<b>markup</b>");
        screenshot("8-batch-markup-as-text");
    }

    @Test
    @Order(7)
    void aUserWhoMayNotKillGetsNoButtonAndTheApiRefusesThem() {
        as("bob");
        browser.get(server.baseUrl() + "/ui/batch.html?id=" + longRunner);
        wait.until(d -> !d.findElement(By.id("state")).getText().isEmpty());
        assertThat(browser.findElement(By.id("kill")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.id("log-status")).getText()).contains("not yours");
        // Even sent by hand from the page, the kill is refused.
        Object status = ((JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + "fetch('../batches/" + longRunner + "', {method: 'DELETE'}).then(r => done(r.status));");
        assertThat(status).isEqualTo(403L);
        screenshot("9-batch-no-kill-for-bob");
    }

    @Test
    @Order(8)
    void aPageLeftForAnotherHoldsNoStreamAndFollowsOnWhenTheUserGoesBack() {
        as("alice");
        browser.get(server.baseUrl() + "/ui/batch.html?id=" + longRunner);
        wait.until(d -> logText().contains("line 0"));
        wait.until(d -> logFollowers() == 1);
        int lastSeen = lastLineNumber();

        // The browser may keep the page, frozen, to show it again at once on Back. Holding its streams
        // open there would use up the six connections a browser allows per host within a few pages,
        // and the page in view would wait for one to close: a kill then waited 40 s. A page that kept
        // its stream held it a minute or more; one that closes it does so as it is left.
        browser.get(server.baseUrl() + "/ui/");
        wait.until(d -> rowIds().contains(longRunner));
        new WebDriverWait(browser, Duration.ofSeconds(15), Duration.ofMillis(100))
                .withMessage("the log stream of the page left is still open")
                .until(d -> logFollowers() == 0);

        browser.navigate().back();
        wait.until(d -> logFollowers() == 1);
        wait.until(d -> lastLineNumber() > lastSeen + 1);
        List<Integer> numbers = lineNumbers();
        assertThat(numbers).as("every line once, in order").isEqualTo(
                java.util.stream.IntStream.range(numbers.get(0), numbers.get(0) + numbers.size()).boxed().toList());
        screenshot("10-batch-back-again");
    }

    @Test
    @Order(9)
    void theOwnerKillsARunningBatchAfterConfirmingAndSeesTheOutcome() {
        as("alice");
        browser.get(server.baseUrl() + "/ui/batch.html?id=" + longRunner);
        wait.until(d -> logText().contains("line 0"));
        WebElement kill = browser.findElement(By.id("kill"));
        wait.until(ExpectedConditions.visibilityOf(kill));
        kill.click();
        wait.until(d -> d.findElement(By.id("confirm")).isDisplayed());
        screenshot("11-kill-confirm");
        browser.findElement(By.id("confirm-kill")).click();
        wait.until(d -> d.findElement(By.id("outcome")).isDisplayed());
        assertThat(browser.findElement(By.id("outcome")).getText()).contains("deleted");
        wait.until(d -> "killed".equals(d.findElement(By.id("state")).getText()));
        assertThat(status(longRunner)).isEqualTo(404); // deleted
        screenshot("12-killed");
    }

    // ---- the browser ----

    /** Every request of the browser carries this user's basic credentials, as after answering the prompt. */
    private static void as(String user) {
        browser.executeCdpCommand("Network.enable", Map.of());
        browser.executeCdpCommand("Network.setExtraHTTPHeaders", Map.of("headers", Map.of("Authorization", basic(user))));
    }

    /** The ids of the rows shown, read in one go: live updates replace rows while a test looks. */
    private static List<Integer> rowIds() {
        List<?> ids = (List<?>) js("return [...document.querySelectorAll('#rows tr')].map(tr => tr.dataset.id);");
        return ids.stream().map(id -> Integer.parseInt((String) id)).toList();
    }

    private static String stateOf(int id) {
        return (String) js("const s = document.querySelector(\"#rows tr[data-id='" + id + "'] .state\");"
                + "return s ? s.textContent : null;");
    }

    private static String logText() {
        return browser.findElement(By.id("log")).getText();
    }

    /** The numbers of the {@code line N} rows the log view shows, top to bottom. */
    private static List<Integer> lineNumbers() {
        List<?> texts = (List<?>) js("return [...document.querySelectorAll('#log .text')].map(e => e.textContent);");
        return texts.stream().map(String.class::cast).filter(t -> t.startsWith("line "))
                .map(t -> Integer.parseInt(t.substring("line ".length()).trim())).toList();
    }

    private static int lastLineNumber() {
        List<Integer> numbers = lineNumbers();
        return numbers.isEmpty() ? -1 : numbers.get(numbers.size() - 1);
    }

    /** The log streams the server has open now, from its metrics. */
    private static int logFollowers() {
        try {
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/metrics"))
                    .header("Authorization", basic("alice")).build(), HttpResponse.BodyHandlers.ofString()).body();
            return metrics.lines().filter(l -> l.startsWith("sparkgate_log_followers{transport=\"sse\"}"))
                    .mapToInt(l -> (int) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                    .findFirst().orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object js(String script) {
        return browser.executeScript(script);
    }

    private static void screenshot(String name) {
        HeadlessChromium.screenshot(browser, name);
    }

    // ---- the API, as another program uses it ----

    private static int create(String user, String name, String className, String... args) {
        try {
            Map<String, Object> body = Map.of("file", TestServer.EXAMPLES_JAR.toString(), "className", className,
                    "name", name, "args", List.of(args));
            HttpResponse<String> res = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches"))
                    .header("Authorization", basic(user)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).as(res.body()).isEqualTo(201);
            return JSON.readTree(res.body()).get("id").asInt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int status(int id) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/batches/" + id))
                    .header("Authorization", basic("alice")).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String basic(String user) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + user + "-secret")
                .getBytes(StandardCharsets.UTF_8));
    }

    private static Path usersFile(String... users) {
        StringBuilder lines = new StringBuilder();
        for (String user : users) {
            lines.append(user).append(':').append(CredentialHashes.hashPassword(user + "-secret", 4)).append('\n');
        }
        try {
            return Files.writeString(Files.createTempDirectory("sparkgate-ui-users").resolve("users"), lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
