package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import io.sparkgate.client.SparkgateClient;
import io.sparkgate.client.SparkgateException;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AuthSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Mode mtls: the client certificate's CN is the user; without a certificate from the client CA, no access. */
class MutualTlsAuthTest {

    private static final Path DIR = tempDir();
    private static final TestPki.Issued CA = TestPki.ca(DIR, "ca");
    private static final TestPki.Issued OTHER_CA = TestPki.ca(DIR, "other-ca");
    private static final TestPki.Issued SERVER_CERT = TestPki.server(DIR, CA);
    private static final TestPki.Issued ERIN = TestPki.client(DIR, CA, "erin");
    private static final TestPki.Issued FORGED_ERIN = TestPki.client(DIR, OTHER_CA, "erin");

    private static Map<String, String> config(String clientAuth) {
        return Map.of(
                ConfigKeys.AUTH_MODE.name(), "mtls",
                ConfigKeys.TLS_CERT_FILE.name(), SERVER_CERT.certFile().toString(),
                ConfigKeys.TLS_KEY_FILE.name(), SERVER_CERT.keyFile().toString(),
                ConfigKeys.TLS_CLIENT_CA_FILE.name(), CA.certFile().toString(),
                ConfigKeys.TLS_CLIENT_AUTH.name(), clientAuth);
    }

    @RegisterExtension
    static final TestServer server = new TestServer(config("require"));

    private static final ClientFactory WITH_CERT = factory(ERIN);
    private static final ClientFactory NO_CERT = factory(null);
    private static final ClientFactory OTHER_CA_CERT = factory(FORGED_ERIN);

    private static ClientFactory factory(TestPki.Issued clientCert) {
        return ClientFactory.builder().tlsCustomizer(tls -> {
            tls.trustManager(CA.cert());
            if (clientCert != null) {
                tls.keyManager(clientCert.keys().getPrivate(), clientCert.cert());
            }
        }).build();
    }

    @AfterAll
    static void closeClients() {
        WITH_CERT.close();
        NO_CERT.close();
        OTHER_CA_CERT.close();
    }

    private static String base(TestServer s) {
        return "https://127.0.0.1:" + s.port();
    }

    @Test
    void aCertificateFromTheClientCaGetsThroughEveryRoute() {
        AuthMatrix.assertAllPass(new AuthMatrix.Caller(base(server), WITH_CERT, null));
        assertThat(AuthMatrix.health(base(server), WITH_CERT)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void withoutACertificateOrWithOneFromAnotherCaTheHandshakeIsRefused() {
        for (ClientFactory factory : List.of(NO_CERT, OTHER_CA_CERT)) {
            assertRefusedOrCutOff(() -> AuthMatrix.web(new AuthMatrix.Caller(base(server), factory, null))
                    .get("/batches").aggregate().join());
        }
        try (SparkgateClient client = SparkgateClient.builder("127.0.0.1:" + server.port())
                .trustCertificates(CA.certFile()).deadline(Duration.ofSeconds(10)).build()) {
            assertThatThrownBy(() -> client.list(0, 1)).isInstanceOfSatisfying(SparkgateException.class,
                    e -> assertThat(e.status().getCode()).isIn(Status.Code.UNAVAILABLE, Status.Code.UNAUTHENTICATED));
        }
        try (SparkgateClient client = SparkgateClient.builder("127.0.0.1:" + server.port())
                .trustCertificates(CA.certFile()).clientCertificate(FORGED_ERIN.certFile(), FORGED_ERIN.keyFile())
                .deadline(Duration.ofSeconds(10)).build()) {
            assertThatThrownBy(() -> client.list(0, 1)).isInstanceOfSatisfying(SparkgateException.class,
                    e -> assertThat(e.status().getCode()).isIn(Status.Code.UNAVAILABLE, Status.Code.UNAUTHENTICATED));
        }
    }

    @Test
    void withOptionalClientAuthAMissingCertificateIsUnauthenticatedOnEveryRoute() throws IOException {
        try (TestServer optional = TestServer.start(Files.createTempDirectory(DIR, "optional"), config("optional"))) {
            AuthMatrix.assertAllRefused(new AuthMatrix.Caller(base(optional), NO_CERT, null),
                    "client certificate required", null);
            AuthMatrix.assertAllPass(new AuthMatrix.Caller(base(optional), WITH_CERT, null));
            assertThat(AuthMatrix.health(base(optional), NO_CERT)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        }
    }

    @Test
    void aClientThatDoesNotTrustTheServerCannotConnect() {
        try (ClientFactory jvmTrust = ClientFactory.builder()
                .tlsCustomizer(tls -> tls.keyManager(ERIN.keys().getPrivate(), ERIN.cert())).build()) {
            assertThatThrownBy(() -> AuthMatrix.web(new AuthMatrix.Caller(base(server), jvmTrust, null))
                    .get("/batches").aggregate().join())
                    .satisfies(e -> assertThat(BearerAuthTest.causes(e)).anyMatch(c -> c instanceof SSLException));
        }
    }

    @Test
    void aBatchSubmittedWithAClientCertificateRunsAndBelongsToItsCn() {
        try (SparkgateClient client = SparkgateClient.builder("127.0.0.1:" + server.port())
                .trustCertificates(CA.certFile())
                .clientCertificate(ERIN.certFile(), ERIN.keyFile())
                .build()) {
            AuthMatrix.assertPiSucceedsOwnedBy(client, "erin");
        }
    }

    /** The call either fails at the TLS layer or is answered 401: it never gets through. */
    private static void assertRefusedOrCutOff(java.util.function.Supplier<AggregatedHttpResponse> call) {
        AggregatedHttpResponse res;
        try {
            res = call.get();
        } catch (RuntimeException e) {
            return; // handshake refused: the connection was closed
        }
        assertThat(res.status().code()).as(res.contentUtf8()).isEqualTo(401);
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("sparkgate-mtls-auth");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
