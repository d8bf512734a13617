package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparkgate.api.v1.BatchServiceGrpc.BatchServiceBlockingStub;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.SubmitSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What may be submitted, over REST and native gRPC alike: every refusal is a 400 / INVALID_ARGUMENT
 * naming the field or key and leaves no batch; what passes runs with its arguments intact.
 */
class SubmissionRulesOverTheWireTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path EXAMPLES_DIR = TestServer.EXAMPLES_JAR.getParent().getParent();
    /** An allowed directory of this test: a link to the examples jar, and a link that leads out. */
    private static final Path ALLOWED = allowedDir();

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.LOCAL_DIRS.name(), ALLOWED + "," + EXAMPLES_DIR,
            ConfigKeys.FORCED_CONF.name() + "spark.sparkgate.forced", "by-operator",
            ConfigKeys.MAX_REQUEST_SIZE.name(), "256k"));

    private static BatchServiceBlockingStub grpc;

    private static Path allowedDir() {
        try {
            Path dir = Files.createTempDirectory("sparkgate-allowed").toRealPath();
            Files.createSymbolicLink(dir.resolve("examples.jar"), TestServer.EXAMPLES_JAR);
            Files.createSymbolicLink(dir.resolve("escape.jar"), Path.of("/etc/passwd"));
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeAll
    static void client() {
        grpc = GrpcClients.newClient(server.baseUrl(), BatchServiceBlockingStub.class);
    }

    private static CreateBatchRequest.Builder app() {
        return CreateBatchRequest.newBuilder().setFile(TestServer.EXAMPLES_JAR.toString())
                .setClassName("io.sparkgate.examples.EchoArgs");
    }

    record Case(String what, CreateBatchRequest request, String messagePart) {}

    private static Case refused(String what, UnaryOperator<CreateBatchRequest.Builder> change, String messagePart) {
        return new Case(what, change.apply(app()).build(), messagePart);
    }

    private static List<Case> refusals() {
        String passwdUp = "/..".repeat(ALLOWED.getNameCount()) + "/etc/passwd";
        return List.of(
                refused("dot-dot", r -> r.setFile(ALLOWED + passwdUp), "outside the directories"),
                refused("symlink out", r -> r.setFile(ALLOWED.resolve("escape.jar").toString()), "symbolic link"),
                refused("file: URI", r -> r.setFile("file:/etc/passwd"), "outside the directories"),
                refused("file:/// with ..", r -> r.setFile("file://" + ALLOWED + passwdUp), "'file'"),
                refused("percent-encoded", r -> r.addJars("file:" + ALLOWED + passwdUp.replace("..", "%2e%2e")),
                        "'jars[0]'"),
                refused("local: URI", r -> r.addFiles("local:/etc/passwd"), "'files[0]'"),
                refused("comma smuggling", r -> r.addPyFiles(TestServer.EXAMPLES_JAR + ",/etc/passwd"), "/etc/passwd"),
                refused("missing file", r -> r.setFile(ALLOWED.resolve("nope.jar").toString()), "does not exist"),
                refused("http scheme", r -> r.setFile("http://example.com/app.jar"), "'http'"),
                refused("unknown scheme", r -> r.addArchives("gopher://h/x.zip"), "'gopher'"),
                refused("denied conf", r -> r.putConf("spark.driver.extraJavaOptions", "-XX:OnOutOfMemoryError=id"),
                        "spark.driver.extraJavaOptions"),
                refused("denied master", r -> r.putConf("spark.master", "yarn"), "spark.master"),
                refused("path conf", r -> r.putConf("spark.driver.resource.gpu.discoveryScript", "/bin/sh"),
                        "spark.driver.resource.gpu.discoveryScript"),
                refused("forced conf", r -> r.putConf("spark.sparkgate.forced", "by-user"), "spark.sparkgate.forced"),
                refused("too many args", r -> r.addAllArgs(Collections.nCopies(1001, "a")), "'args'"),
                refused("bad class name", r -> r.setClassName("a.B; touch /tmp/x"), "'className'"),
                refused("control char in name", r -> r.setName("a\u001bb"), "'name'"),
                refused("bad memory", r -> r.setDriverMemory("lots"), "'driverMemory'"),
                refused("bad queue", r -> r.setQueue("a queue"), "'queue'"),
                refused("bad proxy user", r -> r.setProxyUser("bob;id"), "'proxyUser'"),
                refused("bad conf key", r -> r.putConf("spark.a=b", "c"), "spark.a=b"),
                refused("NUL in an argument", r -> r.addArgs("a\u0000b"), "NUL"));
    }

    @Test
    void everyRefusalIsA400NamingTheFieldOnRestAndLeavesNoBatch() throws Exception {
        int before = total();
        for (Case c : refusals()) {
            HttpResponse<String> response = server.call("POST", "/batches", JsonFormat.printer().print(c.request()));
            assertThat(response.statusCode()).as(c.what() + ": " + response.body()).isEqualTo(400);
            assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                    v -> assertThat(v).startsWith("application/json"));
            assertThat(JSON.readTree(response.body()).get("msg").asText()).as(c.what()).contains(c.messagePart());
        }
        assertThat(total()).isEqualTo(before);
    }

    @Test
    void everyRefusalIsInvalidArgumentNamingTheFieldOnGrpcAndLeavesNoBatch() {
        int before = total();
        for (Case c : refusals()) {
            assertThatThrownBy(() -> grpc.createBatch(c.request())).as(c.what())
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).as(c.what()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).as(c.what()).contains(c.messagePart());
                    });
        }
        assertThat(total()).isEqualTo(before);
    }

    @Test
    void aBodyOverTheSizeLimitIs413OnRestAndResourceExhaustedOnGrpc() throws Exception {
        int before = total();
        CreateBatchRequest big = app().addAllArgs(Collections.nCopies(5, "x".repeat(60_000))).build();

        HttpResponse<String> response = server.call("POST", "/batches", JsonFormat.printer().print(big));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(413);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        assertThat(JSON.readTree(response.body()).get("msg").asText()).isNotBlank();
        assertThatThrownBy(() -> grpc.createBatch(big)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        assertThat(total()).isEqualTo(before);
    }

    @Test
    void shellMetacharactersReachTheApplicationLiterally() throws Exception {
        Path marker = Path.of(System.getProperty("java.io.tmpdir"), "sparkgate-pwned-" + UUID.randomUUID());
        List<String> args = List.of("$(touch " + marker + ")", "; touch " + marker, "`touch " + marker + "`",
                "| touch " + marker, "&& touch " + marker + " &", "a  b\tc", "'single' \"double\"", "$HOME", "*",
                "--conf", "-Dx=y", "> " + marker);
        // Through a link inside an allowed directory to the examples jar (itself in an allowed directory).
        CreateBatchRequest request = app().setFile(ALLOWED.resolve("examples.jar").toString()).addAllArgs(args)
                .setName("echo $(id)").putConf("spark.sparkgate.forced", "by-operator").build();

        HttpResponse<String> created = server.call("POST", "/batches", JsonFormat.printer().print(request));

        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        int id = JSON.readTree(created.body()).get("id").asInt();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                .until(() -> List.of("success", "dead", "killed").contains(state(id)));
        assertThat(state(id)).as(String.join("\n", log(id))).isEqualTo("success");
        List<String> expected = new ArrayList<>();
        expected.add("argc=" + args.size());
        for (int i = 0; i < args.size(); i++) {
            expected.add("arg[" + i + "]=" + args.get(i));
        }
        expected.add("conf spark.sparkgate.forced=by-operator");
        assertThat(log(id)).containsSubsequence(expected);
        assertThat(marker).doesNotExist();
    }

    @Test
    void forcedValuesReachTheApplicationWhenTheRequestDoesNotSetThem() throws Exception {
        HttpResponse<String> created = server.call("POST", "/batches",
                JsonFormat.printer().print(app().addArgs("plain").build()));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        int id = JSON.readTree(created.body()).get("id").asInt();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                .until(() -> List.of("success", "dead", "killed").contains(state(id)));
        assertThat(log(id)).contains("arg[0]=plain", "conf spark.sparkgate.forced=by-operator");
    }

    private static int total() {
        return server.getJson("/batches?size=0").get("total").asInt();
    }

    private static String state(int id) {
        return server.getJson("/batches/" + id + "/state").get("state").asText();
    }

    private static List<String> log(int id) {
        JsonNode page = server.getJson("/batches/" + id + "/log?size=-1");
        List<String> lines = new ArrayList<>();
        page.get("log").forEach(l -> lines.add(l.asText()));
        return lines;
    }
}
