package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgate.server.TestServer;
import io.sparkgate.server.security.TestKdc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.security.auth.Subject;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.authentication.util.KerberosName;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sparkgate on a kerberized YARN, as on a production cluster: a KDC, a ResourceManager and NodeManager
 * that accept only Kerberos, Sparkgate logged in from its own keytab, and users who authenticate with
 * SPNEGO ({@code curl --negotiate}). Their batches are real Spark applications that YARN runs as the
 * server's principal, or with impersonation as the proxy user.
 */
class KerberizedYarnTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TestKdc KDC = TestKdc.get();
    private static final String SPARKGATE = "sparkgate/localhost";
    private static final Duration YARN_APP_TIMEOUT = Duration.ofMinutes(8); // ~30 s on a quiet machine
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();

    @TempDir
    static Path tmp;

    private static SecureMiniYarn yarn;
    private static TestServer server;
    private static Subject alice;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void startKerberizedYarnAndServer() {
        KerberosName.resetDefaultRealm(); // this JVM's realm is the test KDC's
        yarn = SecureMiniYarn.start(tmp.resolve("yarn"), KDC, Map.of(
                // The cluster lets Sparkgate's principal impersonate users from this host.
                "hadoop.proxyuser.sparkgate.hosts", "*",
                "hadoop.proxyuser.sparkgate.groups", "*"));
        server = TestServer.start(tmp.resolve("data"), serverConfig(KDC.keytab(SPARKGATE)));
        alice = KDC.login("alice");
        // A token must reach the server within the KDC's clock skew (seconds): wait until the newly
        // started server answers an authenticated call, so the tests' calls meet a warm one.
        await("the server answers alice").atMost(Duration.ofMinutes(1)).ignoreExceptions()
                .until(() -> send(server, alice, "GET", "/batches", null).statusCode() == 200);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (yarn != null) {
            yarn.close();
        }
        // Later test classes in this JVM see a cluster without Kerberos.
        UserGroupInformation.reset();
        UserGroupInformation.setConfiguration(new org.apache.hadoop.conf.Configuration());
    }

    /** livy.conf's names where Livy has them: a kerberized Livy's configuration works unchanged. */
    private static Map<String, String> serverConfig(Path keytab) {
        String javaHome = System.getProperty("java.home");
        String spark = "sparkgate.spark-conf.";
        // Every node of a real cluster has /etc/krb5.conf; these containers get the test KDC's.
        String krb5 = "-Djava.security.krb5.conf=" + KDC.krb5Conf();
        Map<String, String> conf = new HashMap<>(Map.ofEntries(
                Map.entry("livy.spark.master", "yarn"),
                Map.entry("sparkgate.yarn.conf-dir", yarn.confDir().toString()),
                Map.entry("sparkgate.yarn.poll-interval", "500ms"),
                Map.entry("livy.server.launch.kerberos.principal", TestKdc.principal(SPARKGATE)),
                Map.entry("livy.server.launch.kerberos.keytab", keytab.toString()),
                Map.entry("livy.server.auth.type", "kerberos"),
                Map.entry("livy.server.auth.kerberos.principal", TestKdc.HTTP_PRINCIPAL),
                Map.entry("livy.server.auth.kerberos.keytab", KDC.keytab("HTTP/localhost").toString()),
                Map.entry("livy.impersonation.enabled", "true"),
                Map.entry(spark + "spark.yarn.stagingDir", tmp.resolve("staging").toUri().toString()),
                Map.entry(spark + "spark.yarn.maxAppAttempts", "1"),
                Map.entry(spark + "spark.executor.instances", "1"),
                Map.entry(spark + "spark.executor.cores", "1"),
                Map.entry(spark + "spark.executor.memory", "512m"),
                Map.entry(spark + "spark.driver.extraJavaOptions", krb5),
                Map.entry(spark + "spark.executor.extraJavaOptions", krb5),
                Map.entry(spark + "spark.yarn.appMasterEnv.JAVA_HOME", javaHome),
                Map.entry(spark + "spark.executorEnv.JAVA_HOME", javaHome),
                Map.entry(spark + "spark.yarn.appMasterEnv.SPARK_LOCAL_IP", "127.0.0.1"),
                Map.entry(spark + "spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")));
        return conf;
    }

    @Test
    void aKerberosUsersBatchRunsOnTheKerberizedClusterAsThatUser() throws Exception {
        // No proxyUser: with impersonation enabled Livy runs the batch as its caller, and so does Sparkgate.
        JsonNode created = call(server, alice, "POST", "/batches", """
                {"file": "%s", "className": "io.sparkgate.examples.SparkPi", "args": ["2"]}
                """.formatted(EXAMPLES));
        int id = created.get("id").asInt();
        assertThat(created.get("owner").asText()).isEqualTo("alice");
        assertThat(created.get("proxyUser").asText()).isEqualTo("alice");

        assertThat(awaitFinal(server, id)).as(String.join("\n", log(server, id))).isEqualTo("success");
        assertThat(yarnReport(server, id).getUser()).isEqualTo("alice");
        assertThat(yarnReport(server, id).getFinalApplicationStatus()).isEqualTo(FinalApplicationStatus.SUCCEEDED);
        List<String> log = log(server, id);
        // spark-submit ran on the ticket cache the server wrote for alice and submitted over Kerberos.
        assertThat(log).anySatisfy(line -> assertThat(line).contains("Submitting application"));
        assertThat(log).noneSatisfy(line -> assertThat(line).contains("GSSException"));
        // This secure NodeManager cannot serve container logs (its SecureIOUtils needs Hadoop's native
        // code, which this machine lacks) and the cluster aggregates none: the batch says where the
        // driver's output is, as soon as YARN says the application ended.
        assertThat(log).anySatisfy(line -> assertThat(line)
                .startsWith("[sparkgate] the driver's stdout could not be read from the NodeManager")
                .contains("container_"));
    }

    @Test
    void withImpersonationDisabledABatchRunsAsTheServersPrincipal() throws Exception {
        Map<String, String> config = serverConfig(KDC.keytab(SPARKGATE));
        config.put("livy.impersonation.enabled", "false");
        try (TestServer plain = TestServer.start(tmp.resolve("no-impersonation"), config)) {
            await("the second server answers alice").atMost(Duration.ofMinutes(1)).ignoreExceptions()
                    .until(() -> send(plain, alice, "GET", "/batches", null).statusCode() == 200);
            JsonNode created = call(plain, alice, "POST", "/batches", """
                    {"file": "%s", "className": "io.sparkgate.examples.SparkPi", "args": ["2"]}
                    """.formatted(EXAMPLES));
            int id = created.get("id").asInt();
            assertThat(created.get("owner").asText()).isEqualTo("alice");
            assertThat(created.get("proxyUser").isNull()).as(created.toString()).isTrue();

            assertThat(awaitFinal(plain, id)).as(String.join("\n", log(plain, id))).isEqualTo("success");
            // spark-submit logged in from the server's keytab (--principal, --keytab).
            assertThat(yarnReport(plain, id).getUser()).isEqualTo("sparkgate");
            assertThat(yarnReport(plain, id).getFinalApplicationStatus()).isEqualTo(FinalApplicationStatus.SUCCEEDED);
            assertThat(log(plain, id)).noneSatisfy(line -> assertThat(line).contains("GSSException"));
        }
    }

    private static ApplicationReport yarnReport(TestServer target, int id) throws Exception {
        String appId = call(target, alice, "GET", "/batches/" + id, null).get("appId").asText();
        return yarn.client().getApplicationReport(ApplicationId.fromString(appId));
    }

    @Test
    void aWrongOrMissingKeytabStopsTheStartNamingTheKey() throws Exception {
        // The keys of another principal: the KDC refuses the login.
        assertThatThrownBy(() -> TestServer.start(tmp.resolve("wrong-keytab"),
                serverConfig(KDC.keytab("someone-else/localhost"))).close())
                .hasMessageContaining("sparkgate.yarn.keytab")
                .hasMessageContaining(TestKdc.principal(SPARKGATE));
        Path missing = tmp.resolve("no-such.keytab");
        assertThatThrownBy(() -> TestServer.start(tmp.resolve("missing-keytab"), serverConfig(missing)).close())
                .hasMessageContaining("sparkgate.yarn.keytab")
                .hasMessageContaining(missing.toString());
        assertThat(Files.exists(missing)).isFalse();
    }

    private static String awaitFinal(TestServer target, int id) {
        List<String> finals = List.of("success", "dead", "killed");
        await("batch " + id + " final").atMost(YARN_APP_TIMEOUT).pollInterval(Duration.ofMillis(500))
                .until(() -> finals.contains(call(target, alice, "GET", "/batches/" + id + "/state", null)
                        .get("state").asText()));
        return call(target, alice, "GET", "/batches/" + id + "/state", null).get("state").asText();
    }

    private static List<String> log(TestServer target, int id) {
        JsonNode log = call(target, alice, "GET", "/batches/" + id + "/log?from=0&size=-1", null).get("log");
        List<String> lines = new ArrayList<>();
        log.forEach(l -> lines.add(l.asText()));
        return lines;
    }

    /** A REST call as {@code curl --negotiate} makes it: a fresh SPNEGO token from the user's ticket. */
    private static JsonNode call(TestServer target, Subject user, String method, String path, String body) {
        HttpResponse<String> response = send(target, user, method, path, body);
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isBetween(200, 201);
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpResponse<String> send(TestServer target, Subject user, String method, String path,
                                             String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target.baseUrl() + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", TestKdc.negotiate(user, "HTTP/localhost"));
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
