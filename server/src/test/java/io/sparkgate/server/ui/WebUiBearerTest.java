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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web UI in bearer mode, in a real browser: a browser cannot send a token when it loads a page, so
 * the page asks for one, keeps it in session storage, and sends it on every API call and stream (read
 * with fetch, as EventSource cannot send the header).
 */
class WebUiBearerTest {

    private static final String TOKEN = "ui-test-token-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.AUTH_MODE.name(), "bearer",
            ConfigKeys.TOKENS_FILE.name(), tokensFile().toString()));

    private static ChromeDriver browser;
    private static WebDriverWait wait;
    private static int id;

    @BeforeAll
    static void batchAndBrowser() throws Exception {
        HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server.baseUrl() + "/batches"))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of(
                        "file", TestServer.EXAMPLES_JAR.toString(), "className", "io.sparkgate.examples.NumberedLines",
                        "name", "with-a-token", "args", List.of("5"))))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        id = JSON.readTree(created.body()).get("id").asInt();
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
    void thePageAsksForATokenAndThenShowsTheBatchesAndFollowsALog() {
        browser.get(server.baseUrl() + "/ui/");
        // Without a token the API refuses: the page says so and offers the token field.
        wait.until(d -> d.findElement(By.id("error")).isDisplayed());
        assertThat(browser.findElement(By.id("error")).getText()).contains("Authentication required");
        assertThat(browser.findElement(By.id("rows")).findElements(By.tagName("tr"))).isEmpty();
        HeadlessChromium.screenshot(browser, "bearer-1-token-asked");

        browser.findElement(By.id("token")).sendKeys(TOKEN);
        browser.findElement(By.id("token-save")).click();
        wait.until(d -> !d.findElements(By.cssSelector("#rows tr[data-id='" + id + "']")).isEmpty());
        wait.until(d -> d.findElement(By.id("live")).getText().equals("live"));
        HeadlessChromium.screenshot(browser, "bearer-2-list");

        // The token stays for the tab: the batch page reads the log stream with it.
        browser.findElement(By.cssSelector("#rows tr[data-id='" + id + "'] a")).click();
        wait.until(d -> d.findElement(By.id("log")).getText().contains("line 4"));
        wait.until(d -> "success".equals(d.findElement(By.id("state")).getText()));
        assertThat(browser.findElement(By.id("error")).isDisplayed()).isFalse();
        HeadlessChromium.screenshot(browser, "bearer-3-batch");
    }

    private static Path tokensFile() {
        try {
            return Files.writeString(Files.createTempDirectory("sparkgate-ui-tokens").resolve("tokens"),
                    "dana:" + CredentialHashes.hashToken(TOKEN) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
