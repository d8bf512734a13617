package io.sparkgate.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.server.Server;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.sparkgate.server.config.AuthSettings;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.ConfigLoader.ConfigException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The auth and TLS keys: safe defaults, and every bad or missing value stops the start naming its key. */
class AuthSettingsTest {

    @TempDir
    Path dir;

    private static AuthSettings load(String... keyValues) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            values.put(keyValues[i], keyValues[i + 1]);
        }
        return ConfigLoader.fromMap(values).auth();
    }

    private Path users() {
        return TestPki.writeString(dir.resolve("users"), "alice:" + CredentialHashes.hashPassword("pw", 4) + "\n");
    }

    @Test
    void theDefaultIsNoAuthenticationOnLoopback() {
        AuthSettings auth = load();

        assertThat(auth.mode()).isEqualTo(AuthSettings.Mode.NONE);
        assertThat(auth.tls()).isEmpty();
        assertThat(Authentication.from(auth).enabled()).isFalse();
    }

    @Test
    void noAuthenticationOnANonLoopbackAddressIsRefusedNamingBothKeys() {
        assertThatThrownBy(() -> load(ConfigLoader.HOST, "0.0.0.0"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(AuthSettings.MODE)
                .hasMessageContaining(ConfigLoader.HOST);
        assertThat(load(ConfigLoader.HOST, "localhost").mode()).isEqualTo(AuthSettings.Mode.NONE);
    }

    @Test
    void anAuthenticatedModeMayListenEverywhere() {
        AuthSettings auth = load(ConfigLoader.HOST, "0.0.0.0", AuthSettings.MODE, "basic",
                AuthSettings.USERS_FILE, users().toString());

        assertThat(auth.mode()).isEqualTo(AuthSettings.Mode.BASIC);
    }

    @Test
    void missingOrBadValuesNameTheirKey() {
        assertThatThrownBy(() -> load(AuthSettings.MODE, "kerberos")).hasMessageContaining(AuthSettings.MODE);
        assertThatThrownBy(() -> load(AuthSettings.MODE, "basic")).hasMessageContaining(AuthSettings.USERS_FILE);
        assertThatThrownBy(() -> load(AuthSettings.MODE, "basic", AuthSettings.USERS_FILE, dir.resolve("nope").toString()))
                .hasMessageContaining(AuthSettings.USERS_FILE);
        assertThatThrownBy(() -> load(AuthSettings.MODE, "bearer")).hasMessageContaining(AuthSettings.TOKENS_FILE);
        assertThatThrownBy(() -> load(AuthSettings.MODE, "bearer",
                AuthSettings.JWT_PUBLIC_KEY_FILE, users().toString()))
                .hasMessageContaining(AuthSettings.JWT_ISSUER);
        assertThatThrownBy(() -> load(AuthSettings.MODE, "mtls")).hasMessageContaining(AuthSettings.TLS_CLIENT_CA_FILE);
        assertThatThrownBy(() -> load(AuthSettings.TLS_CERT_FILE, users().toString()))
                .hasMessageContaining(AuthSettings.TLS_KEY_FILE);
        assertThatThrownBy(() -> load(AuthSettings.MODE, "bearer", AuthSettings.JWT_PUBLIC_KEY_FILE, users().toString(),
                AuthSettings.JWT_ISSUER, "iss", AuthSettings.JWT_CLOCK_SKEW, "soon"))
                .hasMessageContaining(AuthSettings.JWT_CLOCK_SKEW);
    }

    @Test
    void credentialsForAnotherModeAreAMistakeNotIgnored() {
        assertThatThrownBy(() -> load(AuthSettings.USERS_FILE, users().toString()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(AuthSettings.USERS_FILE)
                .hasMessageContaining(AuthSettings.MODE + " = none");
    }

    @Test
    void mutualTlsNeedsTlsWithAClientCa() {
        TestPki.Issued ca = TestPki.ca(dir, "ca");
        TestPki.Issued server = TestPki.server(dir, ca);

        assertThatThrownBy(() -> load(AuthSettings.MODE, "mtls", AuthSettings.TLS_CERT_FILE, server.certFile().toString(),
                AuthSettings.TLS_KEY_FILE, server.keyFile().toString()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(AuthSettings.TLS_CLIENT_CA_FILE);
        AuthSettings mtls = load(AuthSettings.MODE, "mtls", AuthSettings.TLS_CERT_FILE, server.certFile().toString(),
                AuthSettings.TLS_KEY_FILE, server.keyFile().toString(),
                AuthSettings.TLS_CLIENT_CA_FILE, ca.certFile().toString());
        assertThat(mtls.tls().orElseThrow().clientAuth()).isEqualTo(AuthSettings.ClientAuth.REQUIRE);
    }

    @Test
    void aPlainTextPasswordInTheUsersFileStopsTheStartWithoutShowingIt() {
        Path users = TestPki.writeString(dir.resolve("plain"), "# users\nalice:hunter2\n");
        AuthSettings auth = load(AuthSettings.MODE, "basic", AuthSettings.USERS_FILE, users.toString());

        assertThatThrownBy(() -> Authentication.from(auth))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(AuthSettings.USERS_FILE)
                .hasMessageContaining("line 2")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void tlsFilesThatAreNotPemOrDoNotMatchStopTheStartNamingTheKey() {
        TestPki.Issued ca = TestPki.ca(dir, "ca");
        TestPki.Issued server = TestPki.server(dir, ca);
        AuthSettings notPem = load(AuthSettings.TLS_CERT_FILE, users().toString(),
                AuthSettings.TLS_KEY_FILE, server.keyFile().toString());
        AuthSettings mismatched = load(AuthSettings.TLS_CERT_FILE, server.certFile().toString(),
                AuthSettings.TLS_KEY_FILE, ca.keyFile().toString());
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);

        assertThatThrownBy(() -> ServerTls.configure(Server.builder(), address, notPem))
                .isInstanceOf(ConfigException.class).hasMessageContaining(AuthSettings.TLS_CERT_FILE);
        assertThatThrownBy(() -> ServerTls.configure(Server.builder(), address, mismatched))
                .isInstanceOf(ConfigException.class).hasMessageContaining(AuthSettings.TLS_KEY_FILE);
    }

    @Test
    void aJwkSetVerifiesTokensAndTheUserComesFromTheConfiguredClaim() throws Exception {
        KeyPair keys = TestPki.rsa();
        Path jwks = TestPki.writeString(dir.resolve("jwks.json"), new JWKSet(
                new RSAKey.Builder((RSAPublicKey) keys.getPublic()).keyID("k1").build()).toString());
        AuthSettings auth = load(AuthSettings.MODE, "bearer", AuthSettings.JWT_JWKS_FILE, jwks.toString(),
                AuthSettings.JWT_ISSUER, "iss", AuthSettings.JWT_USER_CLAIM, "preferred_username");
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(),
                new JWTClaimsSet.Builder().issuer("iss").subject("id-123").claim("preferred_username", "frank")
                        .expirationTime(Date.from(Instant.now().plusSeconds(600))).build());
        jwt.sign(new RSASSASigner(keys.getPrivate()));

        BearerCheck check = BearerCheck.load(auth.tokensFile(), auth.jwt());

        assertThat(check.check(jwt.serialize())).isEqualTo(Caller.of("frank"));
    }

    @Test
    void aJwkSetWithAnHmacKeyIsRefused() {
        Path jwks = TestPki.writeString(dir.resolve("hmac.json"), new JWKSet(
                new OctetSequenceKey.Builder(new byte[32]).build()).toString(false));
        AuthSettings auth = load(AuthSettings.MODE, "bearer", AuthSettings.JWT_JWKS_FILE, jwks.toString(),
                AuthSettings.JWT_ISSUER, "iss");

        assertThatThrownBy(() -> Authentication.from(auth))
                .isInstanceOf(ConfigException.class).hasMessageContaining(AuthSettings.JWT_JWKS_FILE);
    }
}
