package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkgate.client.SparkgateClient;
import io.sparkgate.client.SparkgateException;
import io.sparkgate.server.Main;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AuthSettings;
import io.grpc.Status;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Java client and the command line on a kerberized server, with the user's ticket cache as
 * {@code kinit} leaves it (here written by the test KDC's client from dora's password, in the MIT cache
 * format the JDK reads), as {@code curl --negotiate} uses it.
 */
class KerberosClientTest {

    private static final TestKdc KDC = TestKdc.get();

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.AUTH_MODE.name(), "kerberos",
            ConfigKeys.KERBEROS_PRINCIPAL.name(), TestKdc.HTTP_PRINCIPAL,
            ConfigKeys.KERBEROS_KEYTAB.name(), KDC.keytab("HTTP/localhost").toString()));

    @TempDir
    Path dir;

    private Path kinitDora() {
        KDC.createUserOnce("dora", "dora-password");
        return KDC.kinit("dora", "dora-password", dir.resolve("krb5cc_dora"));
    }

    /** The server as users name it: its host name, which names its principal HTTP/localhost. */
    private static String target() {
        return "localhost:" + server.port();
    }

    record Run(int exitCode, String out, String err) {}

    private static Run sparkgate(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void theJavaClientAuthenticatesWithTheTicketCacheAndItsBatchBelongsToTheUser() {
        try (SparkgateClient client = SparkgateClient.builder(target()).negotiate(kinitDora())
                .deadline(Duration.ofSeconds(30)).build()) {
            AuthMatrix.assertPiSucceedsOwnedBy(client, "dora");
        }
    }

    @Test
    void withoutNegotiateTheClientIsRefused() {
        try (SparkgateClient client = SparkgateClient.builder(target()).build()) {
            assertThatThrownBy(() -> client.list(0, 1)).isInstanceOfSatisfying(SparkgateException.class,
                    e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        }
    }

    @Test
    void theCommandLineNegotiatesOverGrpcAndRest() {
        Path cache = kinitDora();
        Run grpc = sparkgate("list", "--server=" + target(), "--negotiate", "--ticket-cache", cache.toString());
        Run rest = sparkgate("list", "--rest", "--server=" + target(), "--negotiate", "--ticket-cache",
                cache.toString());
        Run none = sparkgate("list", "--server=" + target());

        assertThat(grpc.exitCode()).as(grpc.err()).isZero();
        assertThat(grpc.out()).contains("STATE");
        assertThat(rest.exitCode()).as(rest.err()).isZero();
        assertThat(none.exitCode()).isEqualTo(5);
        assertThat(none.err()).contains("authentication required");
    }

    @Test
    void withoutATicketTheCommandLineSaysToKinit() throws IOException {
        Path empty = Files.createFile(dir.resolve("krb5cc_empty"));
        Run run = sparkgate("list", "--server=" + target(), "--negotiate", "--ticket-cache", empty.toString());

        assertThat(run.exitCode()).isEqualTo(5);
        assertThat(run.err()).contains("no Kerberos ticket").contains("kinit");
    }
}
