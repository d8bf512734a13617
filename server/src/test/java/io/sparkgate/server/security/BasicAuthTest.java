package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.auth.BasicToken;
import io.grpc.health.v1.HealthCheckResponse;
import io.sparkgate.server.Main;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AuthSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/** Mode basic: users with BCrypt hashes; the same credentials on every route, REST and gRPC; the CLI's --user. */
class BasicAuthTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path DIR = tempDir();
    private static final Path USERS = TestPki.writeString(DIR.resolve("users"),
            "# user:bcrypt\n"
            + "alice:" + CredentialHashes.hashPassword("alice-secret", 4) + "\n"
            + "bob:" + CredentialHashes.hashPassword("bob-secret", 4) + "\n");

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.AUTH_MODE.name(), "basic",
            ConfigKeys.USERS_FILE.name(), USERS.toString()));

    private static final ClientFactory PLAIN = ClientFactory.builder().build();

    @AfterAll
    static void closeClients() {
        PLAIN.close();
    }

    private static AuthMatrix.Caller as(String user, String password) {
        return new AuthMatrix.Caller(server.baseUrl(), PLAIN,
                user == null ? null : BasicToken.of(user, password).asHeaderValue());
    }

    @Test
    void withoutCredentialsEveryRouteIsRefusedWithABasicChallenge() {
        AuthMatrix.assertAllRefused(as(null, null), "authentication required", "Basic realm=\"sparkgate\"");
    }

    @Test
    void aWrongPasswordAndAnUnknownUserGetTheSameAnswer() {
        AuthMatrix.assertAllRefused(as("alice", "guess"), "invalid credentials", "Basic realm=\"sparkgate\"");
        AuthMatrix.assertAllRefused(as("mallory", "alice-secret"), "invalid credentials", "Basic realm=\"sparkgate\"");
    }

    @Test
    void aBearerTokenIsNoBasicCredential() {
        AuthMatrix.assertAllRefused(new AuthMatrix.Caller(server.baseUrl(), PLAIN, "Bearer alice-secret"),
                "authentication required", "Basic realm=\"sparkgate\"");
    }

    @Test
    void withTheRightPasswordEveryRouteGetsThrough() {
        AuthMatrix.assertAllPass(as("bob", "bob-secret"));
    }

    @Test
    void healthChecksNeedNoCredentials() {
        assertThat(AuthMatrix.health(server.baseUrl(), PLAIN)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void theCommandLineSubmitsAsTheUserAndTheBatchIsTheirs() throws Exception {
        Path password = TestPki.writeString(DIR.resolve("alice.password"), "alice-secret\n");
        Run run = sparkgate("submit", "--user", "alice", "--password-file", password.toString(), "--json", "--follow",
                "--class", "io.sparkgate.examples.SparkPi", TestServer.EXAMPLES_JAR.toString(), "2");

        assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
        int id = JSON.readTree(run.out().lines().findFirst().orElseThrow()).get("id").asInt();
        AggregatedHttpResponse batch = AuthMatrix.web(as("alice", "alice-secret")).get("/batches/" + id).aggregate().join();
        JsonNode json = JSON.readTree(batch.contentUtf8());
        assertThat(json.get("state").asText()).isEqualTo("success");
        assertThat(json.get("owner").asText()).isEqualTo("alice");
    }

    @Test
    void theCommandLineOverRestSendsTheCredentialsAndShowsARefusal() {
        Path good = TestPki.writeString(DIR.resolve("bob.password"), "bob-secret\n");
        Path bad = TestPki.writeString(DIR.resolve("wrong.password"), "nope\n");

        Run listed = sparkgate("list", "--rest", "--user", "bob", "--password-file", good.toString());
        Run refused = sparkgate("list", "--rest", "--user", "bob", "--password-file", bad.toString());
        Run refusedGrpc = sparkgate("list", "--user", "bob", "--password-file", bad.toString());

        assertThat(listed.exitCode()).as(listed.err()).isZero();
        assertThat(listed.out()).startsWith("ID");
        assertThat(refused.exitCode()).isEqualTo(5);
        assertThat(refused.err()).contains("invalid credentials");
        assertThat(refusedGrpc.exitCode()).isEqualTo(5);
        assertThat(refusedGrpc.err()).contains("invalid credentials");
    }

    record Run(int exitCode, String out, String err) {}

    private static Run sparkgate(String command, String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] argv = new String[args.length + 2];
        argv[0] = command;
        argv[1] = "--server=127.0.0.1:" + server.port();
        System.arraycopy(args, 0, argv, 2, args.length);
        return new Run(cl.execute(argv), out.toString(), err.toString());
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("sparkgate-basic-auth");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
