package io.sparkgate.server;

import io.sparkgate.server.api.SparkgateServer;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.SparkgateConfig;
import java.net.http.HttpResponse;
import java.nio.file.Path;
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
    private final LivyHttp http;

    private TestServer(SparkgateServer server) {
        this.server = server;
        this.http = new LivyHttp("http://127.0.0.1:" + server.port());
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
        return http.call(method, path, jsonBody);
    }

    /** A GET that must answer 200; its JSON body. */
    public com.fasterxml.jackson.databind.JsonNode getJson(String path) {
        return http.getJson(path);
    }

    public HttpResponse<String> get(String path) {
        return call("GET", path, null);
    }

    @Override
    public void close() {
        server.close();
    }
}
