package io.sparkgate.server;

import io.sparkgate.server.api.SparkgateServer;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.SparkgateConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A real Sparkgate for a test class: production wiring ({@link SparkgateServer#start}), a free port on
 * loopback, its own data directory, the Spark home and example apps the build assembled.
 */
public final class TestServer implements AutoCloseable {

    public static final Path SPARK_HOME = Path.of(System.getProperty("sparkgate.test.spark-home",
            "../spark-dist/target/spark-home")).toAbsolutePath().normalize();
    public static final Path EXAMPLES_JAR = Path.of(System.getProperty("sparkgate.test.examples-jar",
            "../examples/target/sparkgate-examples.jar")).toAbsolutePath().normalize();
    public static final Path EXAMPLES_DATA = Path.of(System.getProperty("sparkgate.test.examples-data",
            "../examples/data")).toAbsolutePath().normalize();

    private final SparkgateServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    private TestServer(SparkgateServer server) {
        this.server = server;
    }

    public static TestServer start(Path dataDir) {
        return start(dataDir, Map.of());
    }

    public static TestServer start(Path dataDir, Map<String, String> extra) {
        Map<String, String> values = new java.util.HashMap<>(Map.of(
                ConfigLoader.PORT, "0",
                ConfigLoader.DATA_DIR, dataDir.toString(),
                ConfigLoader.SPARK_HOME, SPARK_HOME.toString(),
                ConfigLoader.SPARK_MASTER, "local[1]",
                ConfigLoader.KILL_GRACE_PERIOD, "5s",
                // Small drivers: several apps share a 2-core CI machine.
                ConfigLoader.SPARK_CONF_PREFIX + "spark.driver.memory", "512m",
                ConfigLoader.SPARK_CONF_PREFIX + "spark.ui.enabled", "false"));
        values.putAll(extra);
        SparkgateConfig config = ConfigLoader.fromMap(values);
        return new TestServer(SparkgateServer.start(config));
    }

    public int port() {
        return server.port();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.port();
    }

    public SparkgateServer server() {
        return server;
    }

    /** An HTTP call as a Livy client makes it. */
    public HttpResponse<String> call(String method, String path, String jsonBody) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30));
        if (jsonBody == null) {
            req.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            req.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(jsonBody));
        }
        try {
            return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> get(String path) {
        return call("GET", path, null);
    }

    @Override
    public void close() {
        server.close();
    }
}
