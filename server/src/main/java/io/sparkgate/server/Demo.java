package io.sparkgate.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgate.server.api.SparkgateServer;
import io.sparkgate.server.config.SparkgateConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import io.sparkgate.server.config.Installation;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The main job, end to end, as a Livy user would do it: a server comes up, the Pi example is
 * submitted over REST, its log is followed until the batch ends, and the result line is printed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Starts a server, submits the Pi example over REST, follows its log to the end.")
final class Demo implements Callable<Integer> {

    /**
     * In a class of its own, made on first use: picocli makes every subcommand (and so initialised the
     * command's class) whenever a command line is parsed, and a server's start paid for this mapper's
     * set-up (0.1 s) without ever running the demo.
     */
    private static final class Json {
        static final ObjectMapper JSON = new ObjectMapper();
    }

    @Mixin
    Main.ServerOptions options = new Main.ServerOptions();

    @Option(names = "--examples-jar", description = "The examples jar (default: built by the project).")
    Path examplesJar = Installation.fromSystemProperties().examplesDir().resolve("target/sparkgate-examples.jar");

    @Override
    public Integer call() throws Exception {
        if (options.port == null) {
            options.port = 0;
        }
        if (options.dataDir == null) {
            options.dataDir = Files.createTempDirectory("sparkgate-demo");
        }
        SparkgateConfig config = options.load();
        try (SparkgateServer server = SparkgateServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            HttpClient http = HttpClient.newHttpClient();
            ObjectNode body = Json.JSON.createObjectNode()
                    .put("file", examplesJar.toAbsolutePath().toString())
                    .put("className", "io.sparkgate.examples.SparkPi")
                    .put("name", "sparkgate-demo-pi");
            body.putArray("args").add("20");
            say("POST " + base + "/batches " + body);
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(base + "/batches"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            say(created.statusCode() + " " + created.body());
            if (created.statusCode() != 201) {
                return 1;
            }
            int id = Json.JSON.readTree(created.body()).get("id").asInt();
            say("web UI: " + base + "/ui/ (this batch: " + base + "/ui/batch.html?id=" + id + ")");
            // Follow the log as it is written (Server-Sent Events), until the end event.
            say("GET " + base + "/batches/" + id + "/log/stream");
            HttpResponse<java.util.stream.Stream<String>> stream = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/batches/" + id + "/log/stream")).GET().build(),
                    HttpResponse.BodyHandlers.ofLines());
            String state = "";
            String result = "";
            String event = "";
            for (String line : (Iterable<String>) stream.body()::iterator) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    String data = line.substring(6);
                    if (event.equals("end")) {
                        state = Json.JSON.readTree(data).get("state").asText();
                    } else {
                        System.out.println("  | " + data);
                        if (data.startsWith("Pi is roughly")) {
                            result = data;
                        }
                    }
                } else if (line.isEmpty()) {
                    event = "";
                }
            }
            say("batch " + id + " ended: " + state);
            if (!result.isEmpty()) {
                say("result: " + result);
            }
            return "success".equals(state) ? 0 : 1;
        }
    }

    private static void say(String line) {
        System.out.println("[demo] " + line);
    }
}
