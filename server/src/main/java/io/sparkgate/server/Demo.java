package io.sparkgate.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgate.server.api.SparkgateServer;
import io.sparkgate.server.config.SparkgateConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
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

    private static final Set<String> FINAL = Set.of("success", "dead", "killed");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    Main.ServerOptions options = new Main.ServerOptions();

    @Option(names = "--examples-jar", description = "The examples jar (default: built by the project).")
    Path examplesJar = Path.of(System.getProperty("sparkgate.home", "."), "examples", "target",
                               "sparkgate-examples.jar");

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
            ObjectNode body = JSON.createObjectNode()
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
            int id = JSON.readTree(created.body()).get("id").asInt();
            int next = 0;
            String state = "";
            String result = "";
            while (true) {
                JsonNode page = get(http, base + "/batches/" + id + "/log?from=" + next + "&size=1000");
                for (JsonNode line : page.get("log")) {
                    System.out.println("  | " + line.asText());
                    if (line.asText().startsWith("Pi is roughly")) {
                        result = line.asText();
                    }
                }
                next += page.get("size").asInt();
                if (FINAL.contains(state) && page.get("size").asInt() == 0) {
                    break;
                }
                state = get(http, base + "/batches/" + id + "/state").get("state").asText();
                if (!FINAL.contains(state)) {
                    Thread.sleep(250);
                }
            }
            say("batch " + id + " ended: " + state);
            if (!result.isEmpty()) {
                say("result: " + result);
            }
            return "success".equals(state) ? 0 : 1;
        }
    }

    private static JsonNode get(HttpClient http, String url) throws Exception {
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(res.body());
    }

    private static void say(String line) {
        System.out.println("[demo] " + line);
    }
}
