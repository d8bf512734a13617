package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

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
        assertThatThrownBy(() -> load(ConfigKeys.HOST.name(), "0.0.0.0"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(ConfigKeys.AUTH_MODE.name())
                .hasMessageContaining(ConfigKeys.HOST.name());
        assertThat(load(ConfigKeys.HOST.name(), "localhost").mode()).isEqualTo(AuthSettings.Mode.NONE);
    }

    @Test
    void anAuthenticatedModeMayListenEverywhere() {
        AuthSettings auth = load(ConfigKeys.HOST.name(), "0.0.0.0", ConfigKeys.AUTH_MODE.name(), "basic",
                ConfigKeys.USERS_FILE.name(), users().toString());

        assertThat(auth.mode()).isEqualTo(AuthSettings.Mode.BASIC);
    }

    @Test
    void missingOrBadValuesNameTheirKey() {
        assertThatThrownBy(() -> load(ConfigKeys.AUTH_MODE.name(), "kerberos")).hasMessageContaining(ConfigKeys.AUTH_MODE.name());
        assertThatThrownBy(() -> load(ConfigKeys.AUTH_MODE.name(), "basic")).hasMessageContaining(ConfigKeys.USERS_FILE.name());
        assertThatThrownBy(() -> load(ConfigKeys.AUTH_MODE.name(), "basic", ConfigKeys.USERS_FILE.name(), dir.resolve("nope").toString()))
                .hasMessageContaining(ConfigKeys.USERS_FILE.name());
        assertThatThrownBy(() -> load(ConfigKeys.AUTH_MODE.name(), "bearer")).hasMessageContaining(ConfigKeys.TOKENS_FILE.name());
        assertThatThrownBy(() -> load(ConfigKeys.AUTH_MODE.name(), "bearer",
                ConfigKeys.JWT_PUBLIC_KEY_FILE.name(), users().toString()))
                .hasMessageContaining(ConfigKeys.JWT_ISSUER.name());
        assertThatThrownBy(() -> load(ConfigKeys.AUTH_MODE.name(), "mtls")).hasMessageContaining(ConfigKeys.TLS_CLIENT_CA_FILE.name());
        assertThatThrownBy(() -> load(ConfigKeys.TLS_CERT_FILE.name(), users().toString()))
                .hasMessageContaining(ConfigKeys.TLS_KEY_FILE.name());
        assertThatThrownBy(() -> load(ConfigKeys.AUTH_MODE.name(), "bearer", ConfigKeys.JWT_PUBLIC_KEY_FILE.name(), users().toString(),
                ConfigKeys.JWT_ISSUER.name(), "iss", ConfigKeys.JWT_CLOCK_SKEW.name(), "soon"))
                .hasMessageContaining(ConfigKeys.JWT_CLOCK_SKEW.name());
    }

    @Test
    void credentialsForAnotherModeAreAMistakeNotIgnored() {
        assertThatThrownBy(() -> load(ConfigKeys.USERS_FILE.name(), users().toString()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(ConfigKeys.USERS_FILE.name())
                .hasMessageContaining(ConfigKeys.AUTH_MODE.name() + " = none");
    }

    @Test
    void mutualTlsNeedsTlsWithAClientCa() {
        TestPki.Issued ca = TestPki.ca(dir, "ca");
        TestPki.Issued server = TestPki.server(dir, ca);

        assertThatThrownBy(() -> load(ConfigKeys.AUTH_MODE.name(), "mtls", ConfigKeys.TLS_CERT_FILE.name(), server.certFile().toString(),
                ConfigKeys.TLS_KEY_FILE.name(), server.keyFile().toString()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(ConfigKeys.TLS_CLIENT_CA_FILE.name());
        AuthSettings mtls = load(ConfigKeys.AUTH_MODE.name(), "mtls", ConfigKeys.TLS_CERT_FILE.name(), server.certFile().toString(),
                ConfigKeys.TLS_KEY_FILE.name(), server.keyFile().toString(),
                ConfigKeys.TLS_CLIENT_CA_FILE.name(), ca.certFile().toString());
        assertThat(mtls.tls().orElseThrow().clientAuth()).isEqualTo(AuthSettings.ClientAuth.REQUIRE);
    }

    @Test
    void aPlainTextPasswordInTheUsersFileStopsTheStartWithoutShowingIt() {
        Path users = TestPki.writeString(dir.resolve("plain"), "# users\nalice:hunter2\n");
        AuthSettings auth = load(ConfigKeys.AUTH_MODE.name(), "basic", ConfigKeys.USERS_FILE.name(), users.toString());

        assertThatThrownBy(() -> Authentication.from(auth))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(ConfigKeys.USERS_FILE.name())
                .hasMessageContaining("line 2")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void tlsFilesThatAreNotPemOrDoNotMatchStopTheStartNamingTheKey() {
        TestPki.Issued ca = TestPki.ca(dir, "ca");
        TestPki.Issued server = TestPki.server(dir, ca);
        AuthSettings notPem = load(ConfigKeys.TLS_CERT_FILE.name(), users().toString(),
                ConfigKeys.TLS_KEY_FILE.name(), server.keyFile().toString());
        AuthSettings mismatched = load(ConfigKeys.TLS_CERT_FILE.name(), server.certFile().toString(),
                ConfigKeys.TLS_KEY_FILE.name(), ca.keyFile().toString());
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);

        assertThatThrownBy(() -> ServerTls.configure(Server.builder(), address, notPem))
                .isInstanceOf(ConfigException.class).hasMessageContaining(ConfigKeys.TLS_CERT_FILE.name());
        assertThatThrownBy(() -> ServerTls.configure(Server.builder(), address, mismatched))
                .isInstanceOf(ConfigException.class).hasMessageContaining(ConfigKeys.TLS_KEY_FILE.name());
    }

    @Test
    void aJwkSetVerifiesTokensAndTheUserComesFromTheConfiguredClaim() throws Exception {
        KeyPair keys = TestPki.rsa();
        Path jwks = TestPki.writeString(dir.resolve("jwks.json"), new JWKSet(
                new RSAKey.Builder((RSAPublicKey) keys.getPublic()).keyID("k1").build()).toString());
        AuthSettings auth = load(ConfigKeys.AUTH_MODE.name(), "bearer", ConfigKeys.JWT_JWKS_FILE.name(), jwks.toString(),
                ConfigKeys.JWT_ISSUER.name(), "iss", ConfigKeys.JWT_USER_CLAIM.name(), "preferred_username");
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
        AuthSettings auth = load(ConfigKeys.AUTH_MODE.name(), "bearer", ConfigKeys.JWT_JWKS_FILE.name(), jwks.toString(),
                ConfigKeys.JWT_ISSUER.name(), "iss");

        assertThatThrownBy(() -> Authentication.from(auth))
                .isInstanceOf(ConfigException.class).hasMessageContaining(ConfigKeys.JWT_JWKS_FILE.name());
    }
}
