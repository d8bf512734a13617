package io.sparkgate.server;

import io.sparkgate.server.config.ConfigKeys;

import io.sparkgate.server.api.SparkgateServer;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.SparkgateConfig;
import io.sparkgate.server.config.SubmitSettings;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import java.nio.file.Files;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Sparkgate for a test class: production wiring ({@link SparkgateServer#start}), a free port on
 * loopback, its own data directory, the Spark home and example apps the build assembled. As a JUnit
 * extension ({@code @RegisterExtension static final TestServer server = new TestServer();}) it is
 * started before the class's tests, in a temporary data directory, and stopped after them.
 */
public final class TestServer implements BeforeAllCallback, AfterAllCallback, AutoCloseable {

    public static final Path SPARK_HOME = Path.of(System.getProperty("sparkgate.test.spark-home",
            "../spark-dist/target/spark-home")).toAbsolutePath().normalize();
    public static final Path EXAMPLES_JAR = Path.of(System.getProperty("sparkgate.test.examples-jar",
            "../examples/target/sparkgate-examples.jar")).toAbsolutePath().normalize();
    public static final Path EXAMPLES_DATA = Path.of(System.getProperty("sparkgate.test.examples-data",
            "../examples/data")).toAbsolutePath().normalize();

    private final Map<String, String> extra;
    private Path dataDir;
    private SparkgateServer server;
    private LivyHttp http;

    /** A server with the test defaults, started by JUnit. */
    public TestServer() {
        this(Map.of());
    }

    /** A server with the test defaults and {@code extra} config keys, started by JUnit. */
    public TestServer(Map<String, String> extra) {
        this.extra = Map.copyOf(extra);
    }

    /** A server started now in {@code dataDir}; the caller closes it. */
    public static TestServer start(Path dataDir, Map<String, String> extra) {
        TestServer server = new TestServer(extra);
        server.startIn(dataDir);
        return server;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        startIn(Files.createTempDirectory("sparkgate-test"));
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        close();
        try (Stream<Path> paths = Files.walk(dataDir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void startIn(Path dir) {
        dataDir = dir;
        Map<String, String> values = new java.util.HashMap<>(Map.of(
                ConfigKeys.PORT.name(), "0",
                ConfigKeys.DATA_DIR.name(), dataDir.toString(),
                ConfigKeys.SPARK_HOME.name(), SPARK_HOME.toString(),
                ConfigKeys.SPARK_MASTER.name(), "local[1]",
                ConfigKeys.KILL_GRACE_PERIOD.name(), "5s",
                // Small drivers: several apps share a 2-core CI machine.
                ConfigKeys.SPARK_CONF.name() + "spark.driver.memory", "512m",
                ConfigKeys.SPARK_CONF.name() + "spark.ui.enabled", "false"));
        // The example apps and their data are the local files tests may submit.
        values.put(ConfigKeys.LOCAL_DIRS.name(), EXAMPLES_JAR.getParent().getParent() + "," + EXAMPLES_DATA);
        // A test configured as a Livy user would (their livy.conf keys) gets those, not our defaults.
        if (extra.containsKey("livy.file.local-dir-whitelist")) {
            values.remove(ConfigKeys.LOCAL_DIRS.name());
        }
        if (extra.containsKey("livy.spark.master")) {
            values.remove(ConfigKeys.SPARK_MASTER.name());
        }
        values.putAll(extra);
        SparkgateConfig config = ConfigLoader.fromMap(values);
        server = SparkgateServer.start(config);
        http = new LivyHttp(baseUrl());
    }

    /** The server's data directory (batch logs, the database). */
    public Path dataDir() {
        return dataDir;
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
