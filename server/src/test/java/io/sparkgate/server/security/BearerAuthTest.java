package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.common.auth.BasicToken;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import io.sparkgate.client.SparkgateClient;
import io.sparkgate.client.SparkgateException;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AuthSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Mode bearer over TLS: static tokens (stored hashed) and signed JWTs, on every route, REST and gRPC. */
class BearerAuthTest {

    private static final String ISSUER = "https://issuer.sparkgate.test";
    private static final String AUDIENCE = "sparkgate";
    private static final String STATIC_TOKEN = "s3cr3t-static-token-for-carol-0123456789";

    private static final Path DIR = tempDir();
    private static final TestPki.Issued CA = TestPki.ca(DIR, "ca");
    private static final TestPki.Issued SERVER_CERT = TestPki.server(DIR, CA);
    private static final KeyPair ISSUER_KEYS = TestPki.rsa();
    private static final String ISSUER_PUBLIC_PEM = TestPki.pem("PUBLIC KEY", ISSUER_KEYS.getPublic().getEncoded());
    private static final Path ISSUER_KEY_FILE = TestPki.writeString(DIR.resolve("issuer.pub"), ISSUER_PUBLIC_PEM);
    private static final Path TOKENS = TestPki.writeString(DIR.resolve("tokens"),
            "carol:" + CredentialHashes.hashToken(STATIC_TOKEN) + "\n");

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            ConfigKeys.AUTH_MODE.name(), "bearer",
            ConfigKeys.TOKENS_FILE.name(), TOKENS.toString(),
            ConfigKeys.JWT_PUBLIC_KEY_FILE.name(), ISSUER_KEY_FILE.toString(),
            ConfigKeys.JWT_ISSUER.name(), ISSUER,
            ConfigKeys.JWT_AUDIENCE.name(), AUDIENCE,
            ConfigKeys.TLS_CERT_FILE.name(), SERVER_CERT.certFile().toString(),
            ConfigKeys.TLS_KEY_FILE.name(), SERVER_CERT.keyFile().toString()));

    private static final ClientFactory TRUSTING = ClientFactory.builder()
            .tlsCustomizer(tls -> tls.trustManager(CA.cert())).build();

    @AfterAll
    static void closeClients() {
        TRUSTING.close();
    }

    private static String base() {
        return "https://127.0.0.1:" + server.port();
    }

    private static AuthMatrix.Caller bearer(String token) {
        return new AuthMatrix.Caller(base(), TRUSTING, token == null ? null : "Bearer " + token);
    }

    private static String jwt(KeyPair keys, String issuer, String subject, Instant expiry) {
        return sign(new RSASSASigner(keys.getPrivate()), JWSAlgorithm.RS256, claims(issuer, subject, expiry));
    }

    private static JWTClaimsSet claims(String issuer, String subject, Instant expiry) {
        return new JWTClaimsSet.Builder().issuer(issuer).subject(subject).audience(AUDIENCE)
                .issueTime(new Date()).expirationTime(Date.from(expiry)).build();
    }

    private static String sign(JWSSigner signer, JWSAlgorithm alg, JWTClaimsSet claims) {
        SignedJWT jwt = new SignedJWT(new JWSHeader(alg), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    private static Instant inAnHour() {
        return Instant.now().plus(Duration.ofHours(1));
    }

    @Test
    void withoutATokenEveryRouteIsRefusedWithABearerChallenge() {
        AuthMatrix.assertAllRefused(bearer(null), "authentication required", "Bearer realm=\"sparkgate\"");
    }

    @Test
    void basicCredentialsAreNoBearerToken() {
        AuthMatrix.assertAllRefused(new AuthMatrix.Caller(base(), TRUSTING,
                BasicToken.of("carol", STATIC_TOKEN).asHeaderValue()), "authentication required", "Bearer");
    }

    @Test
    void anUnknownStaticTokenIsRefused() {
        AuthMatrix.assertAllRefused(bearer(STATIC_TOKEN + "x"), "invalid token", "Bearer realm=\"sparkgate\"");
    }

    @Test
    void anExpiredJwtIsRefusedAsExpired() {
        AuthMatrix.assertAllRefused(bearer(jwt(ISSUER_KEYS, ISSUER, "dave", Instant.now().minus(Duration.ofMinutes(10)))),
                "token expired", "Bearer");
    }

    @Test
    void aJwtSignedByAnotherKeyIsRefused() {
        AuthMatrix.assertAllRefused(bearer(jwt(TestPki.rsa(), ISSUER, "dave", inAnHour())), "invalid token", "Bearer");
    }

    @Test
    void aJwtFromAnotherIssuerOrForAnotherAudienceIsRefused() {
        AuthMatrix.assertAllRefused(bearer(jwt(ISSUER_KEYS, "https://evil.test", "dave", inAnHour())),
                "invalid token", "Bearer");
        String otherAudience = sign(new RSASSASigner(ISSUER_KEYS.getPrivate()), JWSAlgorithm.RS256,
                new JWTClaimsSet.Builder().issuer(ISSUER).subject("dave").audience("another-service")
                        .expirationTime(Date.from(inAnHour())).build());
        AuthMatrix.assertAllRefused(bearer(otherAudience), "invalid token", "Bearer");
    }

    @Test
    void anUnsignedJwtIsRefused() {
        String none = new PlainJWT(claims(ISSUER, "dave", inAnHour())).serialize();
        assertThat(none).endsWith(".");
        AuthMatrix.assertAllRefused(bearer(none), "invalid token", "Bearer");
    }

    @Test
    void aJwtMacedWithThePublicKeyIsRefused() throws Exception {
        // The classic algorithm confusion: HS256 with the (public) verification key as the HMAC secret.
        String confused = sign(new MACSigner(ISSUER_PUBLIC_PEM.getBytes(StandardCharsets.US_ASCII)), JWSAlgorithm.HS256,
                claims(ISSUER, "dave", inAnHour()));
        AuthMatrix.assertAllRefused(bearer(confused), "invalid token", "Bearer");
    }

    @Test
    void aStaticTokenAndAValidJwtGetThroughEveryRoute() {
        AuthMatrix.assertAllPass(bearer(STATIC_TOKEN));
        AuthMatrix.assertAllPass(bearer(jwt(ISSUER_KEYS, ISSUER, "dave", inAnHour())));
    }

    @Test
    void healthChecksNeedNoToken() {
        assertThat(AuthMatrix.health(base(), TRUSTING)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void aClientThatDoesNotTrustTheServerCannotConnect() {
        try (ClientFactory jvmTrust = ClientFactory.builder().build()) {
            assertThatThrownBy(() -> AuthMatrix.web(new AuthMatrix.Caller(base(), jvmTrust, "Bearer " + STATIC_TOKEN))
                    .get("/batches").aggregate().join())
                    .satisfies(e -> assertThat(causes(e)).anyMatch(c -> c instanceof SSLException));
        }
        try (SparkgateClient client = SparkgateClient.builder("127.0.0.1:" + server.port()).tls(true)
                .bearerToken(STATIC_TOKEN).deadline(Duration.ofSeconds(10)).build()) {
            assertThatThrownBy(() -> client.list(0, 1)).isInstanceOfSatisfying(SparkgateException.class,
                    e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        }
    }

    @Test
    void aBatchSubmittedWithAJwtOverGrpcRunsAndBelongsToItsSubject() {
        try (SparkgateClient client = SparkgateClient.builder("127.0.0.1:" + server.port())
                .trustCertificates(CA.certFile())
                .bearerToken(jwt(ISSUER_KEYS, ISSUER, "dave", inAnHour()))
                .build()) {
            AuthMatrix.assertPiSucceedsOwnedBy(client, "dave");
        }
    }

    static java.util.List<Throwable> causes(Throwable e) {
        java.util.List<Throwable> chain = new java.util.ArrayList<>();
        for (Throwable t = e; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("sparkgate-bearer-auth");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
