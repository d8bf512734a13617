package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.auth.BasicToken;
import io.grpc.health.v1.HealthCheckResponse;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.config.AuthSettings;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.ConfigLoader.ConfigException;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosPrincipal;
import javax.security.auth.kerberos.KerberosTicket;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.Oid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;

/**
 * Mode kerberos (SPNEGO) against a real KDC: users with tickets from it call every route with
 * {@code Authorization: Negotiate}, made by the JDK's GSS-API as {@code curl --negotiate} makes it; the
 * server accepts them with the keys of its {@code HTTP/localhost} principal.
 */
class KerberosAuthTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TestKdc KDC = TestKdc.get();
    private static final String SERVICE = "HTTP/localhost";
    /** The lifetime of the tickets that are to expire. */
    private static final int TICKET_SECONDS = 6;

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of(
            // Livy's names for the same keys: a livy.conf's SPNEGO section works unchanged.
            "livy.server.auth.type", "kerberos",
            "livy.server.auth.kerberos.principal", TestKdc.HTTP_PRINCIPAL,
            "livy.server.auth.kerberos.keytab", KDC.keytab(SERVICE).toString()));

    private static final ClientFactory PLAIN = ClientFactory.builder().build();
    private static final Subject ALICE = KDC.login("alice");

    @AfterAll
    static void closeClients() {
        PLAIN.close();
    }

    /** Each request with a new token from {@code user} for {@code service}, as curl --negotiate sends. */
    private static AuthMatrix.Caller negotiating(Subject user, String service) {
        return AuthMatrix.Caller.perRequest(server.baseUrl(), PLAIN, () -> TestKdc.negotiate(user, service));
    }

    @Test
    void withoutATicketEveryRouteIsRefusedWithANegotiateChallenge() {
        AuthMatrix.assertAllRefused(new AuthMatrix.Caller(server.baseUrl(), PLAIN, null),
                "authentication required", "Negotiate");
    }

    @Test
    void aUserWithATicketGetsThroughEveryRoute() {
        AuthMatrix.assertAllPass(negotiating(ALICE, SERVICE));
    }

    @Test
    void otherSchemesAreNoTicket() {
        AuthMatrix.assertAllRefused(new AuthMatrix.Caller(server.baseUrl(), PLAIN,
                BasicToken.of("alice", "secret").asHeaderValue()), "authentication required", "Negotiate");
        AuthMatrix.assertAllRefused(new AuthMatrix.Caller(server.baseUrl(), PLAIN, "Negotiate not-base64!"),
                "invalid credentials", "Negotiate");
    }

    @Test
    void aTicketForAnotherServiceIsRefused() {
        KDC.keytab("HTTP/otherhost"); // a service the KDC knows, whose keys this server does not have
        AuthMatrix.assertAllRefused(negotiating(ALICE, "HTTP/otherhost"), "invalid credentials", "Negotiate");
    }

    @Test
    void aTokenIsAcceptedOnceAndRefusedWhenReplayed() {
        String token = TestKdc.negotiate(ALICE, SERVICE);
        WebClient client = AuthMatrix.web(new AuthMatrix.Caller(server.baseUrl(), PLAIN, token));

        assertThat(client.get("/batches").aggregate().join().status().code()).isEqualTo(200);
        AggregatedHttpResponse replay = client.get("/batches").aggregate().join();
        assertThat(replay.status().code()).isEqualTo(401);
        assertThat(replay.contentUtf8()).contains("invalid credentials");
    }

    @Test
    void anExpiredTicketIsRefused() throws Exception {
        // The KDC issues erin tickets that live a few seconds; while they do, they are accepted.
        Subject erin = KDC.withTicketLifetime(TICKET_SECONDS, () -> {
            Subject s = KDC.login("erin");
            assertThat(AuthMatrix.web(negotiating(s, SERVICE)).get("/batches").aggregate().join().status().code())
                    .isEqualTo(200);
            return s;
        });
        KerberosTicket tgt = erin.getPrivateCredentials(KerberosTicket.class).stream()
                .filter(t -> t.getServer().getName().startsWith("krbtgt/")).findFirst().orElseThrow();
        KerberosTicket ticket = TestKdc.serviceTicket(erin, SERVICE);
        assertThat(Duration.between(ticket.getStartTime().toInstant(), ticket.getEndTime().toInstant()))
                .isLessThanOrEqualTo(Duration.ofSeconds(TICKET_SECONDS));
        Instant expired = ticket.getEndTime().toInstant().plusSeconds(TestKdc.CLOCK_SKEW_SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> Instant.now().isAfter(expired.plusSeconds(1)));

        // The JDK will not send an expired ticket (curl would not either): a client that does, with a
        // fresh authenticator, is one whose clock or cache is wrong. Its copy of the tickets claims
        // they are still good; what the KDC sealed inside says they are not.
        Subject stale = new Subject();
        stale.getPrincipals().add(new KerberosPrincipal(TestKdc.principal("erin")));
        stale.getPrivateCredentials().add(stillGoodCopy(tgt));
        stale.getPrivateCredentials().add(stillGoodCopy(ticket));
        AuthMatrix.assertAllRefused(AuthMatrix.Caller.perRequest(server.baseUrl(), PLAIN,
                () -> TestKdc.negotiate(stale, SERVICE)), "invalid credentials", "Negotiate");

        // erin with a new ticket is welcome again: it was the expiry that was refused, not erin.
        AuthMatrix.assertAllPass(negotiating(KDC.login("erin"), SERVICE));
    }

    private static KerberosTicket stillGoodCopy(KerberosTicket t) {
        Instant later = Instant.now().plus(Duration.ofHours(1));
        return new KerberosTicket(t.getEncoded(), t.getClient(), t.getServer(), t.getSessionKey().getEncoded(),
                t.getSessionKeyType(), t.getFlags(), t.getAuthTime(), t.getStartTime(), java.util.Date.from(later),
                null, t.getClientAddresses());
    }

    @Test
    void theCallerIsThePrincipalsShortNameAndOwnsItsBatch() throws Exception {
        Subject carolAdmin = KDC.login("carol/admin");
        WebClient client = AuthMatrix.web(negotiating(carolAdmin, SERVICE));
        AggregatedHttpResponse created = client.execute(
                RequestHeaders.builder(HttpMethod.POST, "/batches").contentType(MediaType.JSON_UTF_8).build(),
                JSON.writeValueAsString(Map.of("file", TestServer.EXAMPLES_JAR.toString(),
                        "className", "io.sparkgate.examples.SparkPi", "args", java.util.List.of("1"))))
                .aggregate().join();
        assertThat(created.status().code()).as(created.contentUtf8()).isEqualTo(201);
        JsonNode batch = JSON.readTree(created.contentUtf8());
        try {
            assertThat(batch.path("owner").asText()).isEqualTo("carol");
        } finally {
            client.delete("/batches/" + batch.path("id").asInt()).aggregate().join();
        }
    }

    @Test
    void anAcceptedRequestProvesTheServerToTheClient() throws Exception {
        // Mutual authentication: the answer carries the server's token, which only the holder of the
        // HTTP/localhost keys could make; the client's GSS context checks it.
        @SuppressWarnings("removal")
        boolean established = Subject.doAs(ALICE, (PrivilegedExceptionAction<Boolean>) () -> {
            GSSManager gss = GSSManager.getInstance();
            GSSContext context = gss.createContext(
                    gss.createName(TestKdc.HTTP_PRINCIPAL, new Oid("1.2.840.113554.1.2.2.1")),
                    new Oid("1.3.6.1.5.5.2"), null, GSSContext.DEFAULT_LIFETIME);
            context.requestMutualAuth(true);
            byte[] token = context.initSecContext(new byte[0], 0, 0);
            AggregatedHttpResponse res = WebClient.builder(server.baseUrl()).factory(PLAIN).build()
                    .execute(RequestHeaders.builder(HttpMethod.GET, "/batches")
                            .add(HttpHeaderNames.AUTHORIZATION, "Negotiate " + Base64.getEncoder().encodeToString(token))
                            .build())
                    .aggregate().join();
            assertThat(res.status().code()).isEqualTo(200);
            String answer = res.headers().get(HttpHeaderNames.WWW_AUTHENTICATE);
            assertThat(answer).startsWith("Negotiate ");
            byte[] reply = Base64.getDecoder().decode(answer.substring("Negotiate ".length()));
            context.initSecContext(reply, 0, reply.length);
            boolean done = context.isEstablished();
            context.dispose();
            return done;
        });
        assertThat(established).isTrue();
    }

    @Test
    void healthChecksNeedNoTicket() {
        assertThat(AuthMatrix.health(server.baseUrl(), PLAIN)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void aPrincipalWithoutKeysInTheKeytabStopsTheStartNamingBothKeys() {
        AuthSettings settings = ConfigLoader.fromMap(Map.of(
                ConfigKeys.AUTH_MODE.name(), "kerberos",
                ConfigKeys.KERBEROS_PRINCIPAL.name(), "HTTP/elsewhere@" + TestKdc.REALM,
                ConfigKeys.KERBEROS_KEYTAB.name(), KDC.keytab(SERVICE).toString())).auth();
        assertThatThrownBy(() -> Authentication.from(settings))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(ConfigKeys.KERBEROS_KEYTAB.name())
                .hasMessageContaining("HTTP/elsewhere@" + TestKdc.REALM);
    }

    @Test
    void theModeNeedsAPrincipalWithARealmAndAKeytab() {
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.AUTH_MODE.name(), "kerberos")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(ConfigKeys.KERBEROS_PRINCIPAL.name());
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.AUTH_MODE.name(), "kerberos",
                ConfigKeys.KERBEROS_PRINCIPAL.name(), "HTTP/localhost")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("no realm");
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.AUTH_MODE.name(), "kerberos",
                ConfigKeys.KERBEROS_PRINCIPAL.name(), TestKdc.HTTP_PRINCIPAL)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(ConfigKeys.KERBEROS_KEYTAB.name());
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.AUTH_MODE.name(), "basic",
                ConfigKeys.KERBEROS_KEYTAB.name(), KDC.keytab(SERVICE).toString())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("belongs to mode kerberos");
    }

    @Test
    void byDefaultTheUserIsTheFirstComponentOfAPrincipalOfTheRealm() throws Exception {
        Subject admin = KDC.login("alice/admin");
        JsonNode created = createPi(negotiating(admin, SERVICE));
        assertThat(created.get("owner").asText()).isEqualTo("alice");
        delete(negotiating(admin, SERVICE), created.get("id").asInt());
    }

    @Test
    void nameRulesMakeTheOwnerTheNameHadoopsAuthToLocalRulesGive(@TempDir java.nio.file.Path dir) throws Exception {
        String realm = TestKdc.REALM.replace(".", "\\.");
        // Admin principals keep their instance; one-component users are lower-cased; nothing else maps.
        String rules = "RULE:[2:$1-$2@$0](.*-admin@" + realm + ")s/@.*// RULE:[1:$1@$0](.*@" + realm + ")s/@.*///L";
        try (TestServer ruled = TestServer.start(dir.resolve("ruled"), Map.of(
                "livy.server.auth.type", "kerberos",
                "livy.server.auth.kerberos.principal", TestKdc.HTTP_PRINCIPAL,
                "livy.server.auth.kerberos.keytab", KDC.keytab(SERVICE).toString(),
                "livy.server.auth.kerberos.name-rules", rules))) {
            Subject admin = KDC.login("alice/admin");
            AuthMatrix.Caller asAdmin = AuthMatrix.Caller.perRequest(ruled.baseUrl(), PLAIN,
                    () -> TestKdc.negotiate(admin, SERVICE));
            JsonNode created = createPi(asAdmin);
            assertThat(created.get("owner").asText()).isEqualTo("alice-admin");
            delete(asAdmin, created.get("id").asInt());

            Subject bob = KDC.login("Bob");
            AggregatedHttpResponse list = AuthMatrix.web(AuthMatrix.Caller.perRequest(ruled.baseUrl(), PLAIN,
                    () -> TestKdc.negotiate(bob, SERVICE))).get("/batches").aggregate().join();
            assertThat(list.status().code()).isEqualTo(200);

            // A principal no rule maps is not a user: refused like a bad ticket, on every route.
            Subject service = KDC.login("backup/localhost");
            AuthMatrix.assertAllRefused(AuthMatrix.Caller.perRequest(ruled.baseUrl(), PLAIN,
                    () -> TestKdc.negotiate(service, SERVICE)), "invalid credentials", "Negotiate");
        }
        // A rule list with a mistake stops the start, naming the key.
        assertThatThrownBy(() -> TestServer.start(dir.resolve("bad"), Map.of(
                "livy.server.auth.type", "kerberos",
                "livy.server.auth.kerberos.principal", TestKdc.HTTP_PRINCIPAL,
                "livy.server.auth.kerberos.keytab", KDC.keytab(SERVICE).toString(),
                "livy.server.auth.kerberos.name-rules", "RULE:[1:$1] DEFALT")).close())
                .hasMessageContaining("sparkgate.auth.kerberos.name-rules").hasMessageContaining("DEFALT");
    }

    private static JsonNode createPi(AuthMatrix.Caller caller) throws Exception {
        AggregatedHttpResponse created = AuthMatrix.web(caller).execute(RequestHeaders.of(HttpMethod.POST, "/batches",
                HttpHeaderNames.CONTENT_TYPE, MediaType.JSON), """
                {"file": "%s", "className": "io.sparkgate.examples.SparkPi"}
                """.formatted(TestServer.EXAMPLES_JAR)).aggregate().join();
        assertThat(created.status().code()).as(created.contentUtf8()).isEqualTo(201);
        return JSON.readTree(created.contentUtf8());
    }

    private static void delete(AuthMatrix.Caller caller, int id) {
        assertThat(AuthMatrix.web(caller).delete("/batches/" + id).aggregate().join().status().code())
                .isEqualTo(200);
    }
}
