package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.ConfigLoader.ConfigException;
import io.sparkgate.server.config.YarnSettings;
import io.sparkgate.server.security.TestKdc;
import java.nio.file.Path;
import java.security.AccessController;
import java.security.PrivilegedAction;
import java.time.Duration;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosTicket;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.authentication.util.KerberosName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's own login on a kerberized cluster (sparkgate.yarn.principal / keytab), against a real
 * KDC: Hadoop's login user becomes the principal, its ticket is renewed from the keytab before it
 * expires, and spark-submit is told how to authenticate.
 */
class KerberosLoginTest {

    private static final TestKdc KDC = TestKdc.get();
    private static final String SERVER = "sparkgate/localhost";

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @TempDir
    Path dir;

    @AfterEach
    void resetHadoopLogin() {
        scheduler.shutdownNow();
        UserGroupInformation.reset();
    }

    private static Configuration kerberized() {
        Configuration conf = new Configuration(false);
        conf.set("hadoop.security.authentication", "kerberos");
        // Hadoop waits 60 s between logins by default; the test's tickets live seconds.
        conf.set("hadoop.kerberos.min.seconds.before.relogin", "1");
        KerberosName.resetDefaultRealm(); // this JVM's realm is the test KDC's
        return conf;
    }

    private static UserGroupInformation loginUser() {
        try {
            return UserGroupInformation.getLoginUser();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static KerberosTicket tgt(UserGroupInformation user) {
        @SuppressWarnings("removal")
        Subject subject = user.doAs((PrivilegedAction<Subject>) () -> Subject.getSubject(AccessController.getContext()));
        return subject.getPrivateCredentials(KerberosTicket.class).stream()
                .filter(t -> t.getServer().getName().startsWith("krbtgt/")).findFirst().orElseThrow();
    }

    @Test
    void theServerLogsInFromItsKeytabAndRenewsTheTicketBeforeItExpires() {
        YarnSettings.KerberosLogin settings = new YarnSettings.KerberosLogin(TestKdc.principal(SERVER),
                KDC.keytab(SERVER));
        KDC.withTicketLifetime(10, () -> {
            try (KerberosLogin login = KerberosLogin.start(settings, kerberized(), scheduler, Duration.ofMillis(500))) {
                UserGroupInformation user = login.user();
                assertThat(user.getUserName()).isEqualTo(TestKdc.principal(SERVER));
                assertThat(user.hasKerberosCredentials()).isTrue();
                assertThat(loginUser()).isSameAs(user);
                Date firstEnd = tgt(user).getEndTime();

                // Hadoop logs in again at 80 % of the ticket's life: a new ticket before the first ends.
                await("a renewed ticket").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                        .until(() -> tgt(user).getEndTime().after(firstEnd));
                KerberosTicket renewed = tgt(user);
                assertThat(renewed.getStartTime()).isBefore(firstEnd);
                assertThat(renewed.isCurrent()).isTrue();
            }
            return null;
        });
    }

    @Test
    void aClusterWithoutKerberosOrABadKeytabStopsTheStartNamingTheKey() {
        YarnSettings.KerberosLogin settings = new YarnSettings.KerberosLogin(TestKdc.principal(SERVER),
                KDC.keytab(SERVER));
        assertThatThrownBy(() -> KerberosLogin.start(settings, new Configuration(false), scheduler,
                Duration.ofMinutes(1)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("hadoop.security.authentication");
        YarnSettings.KerberosLogin wrong = new YarnSettings.KerberosLogin(TestKdc.principal("nobody/localhost"),
                KDC.keytab(SERVER));
        assertThatThrownBy(() -> KerberosLogin.start(wrong, kerberized(), scheduler, Duration.ofMinutes(1)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(ConfigKeys.YARN_KEYTAB.name());
    }

    @Test
    void livysKeysNameTheLoginAndBothAreNeeded() {
        Path keytab = KDC.keytab(SERVER);
        YarnSettings yarn = ConfigLoader.fromMap(Map.of(
                "livy.server.launch.kerberos.principal", TestKdc.principal(SERVER),
                "livy.server.launch.kerberos.keytab", keytab.toString())).yarn();
        assertThat(yarn.login()).contains(new YarnSettings.KerberosLogin(TestKdc.principal(SERVER), keytab));
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.YARN_PRINCIPAL.name(), TestKdc.principal(SERVER))))
                .isInstanceOf(ConfigException.class).hasMessageContaining(ConfigKeys.YARN_KEYTAB.name());
    }

    @Test
    void sparkSubmitLogsInFromTheKeytabUnlessAProxyUserNeedsTheServersTicketCache() throws Exception {
        YarnSettings.KerberosLogin settings = new YarnSettings.KerberosLogin(TestKdc.principal(SERVER),
                KDC.keytab(SERVER));
        BatchRequest plain = BatchRequest.of("/apps/app.jar");
        Map<String, String> env = new HashMap<>();

        assertThat(YarnLauncher.kerberos(settings, plain, dir, env)).containsExactly(
                Map.entry("--principal", TestKdc.principal(SERVER)),
                Map.entry("--keytab", KDC.keytab(SERVER).toString()));
        assertThat(env).containsEntry("SPARK_SUBMIT_OPTS", "-Djava.security.krb5.conf=" + KDC.krb5Conf());

        // Spark refuses --principal with --proxy-user: the submitter's tickets come from a ticket cache
        // the server fills from its keytab, as kinit -kt would; the JDK in spark-submit's JVM reads it.
        BatchRequest proxied = new BatchRequest(plain.file(), "", "alice", "", java.util.List.of(),
                java.util.List.of(), java.util.List.of(), java.util.List.of(), java.util.List.of(), "",
                java.util.OptionalInt.empty(), "", java.util.OptionalInt.empty(), java.util.OptionalInt.empty(), "",
                Map.of());
        Map<String, String> proxiedEnv = new HashMap<>();
        assertThat(YarnLauncher.kerberos(settings, proxied, dir, proxiedEnv)).isEmpty();
        Path cache = dir.resolve("krb5cc");
        assertThat(proxiedEnv).containsEntry("KRB5CCNAME", "FILE:" + cache);
        KerberosTicket cached = ticketFromCache(cache);
        assertThat(cached.getClient().getName()).isEqualTo(TestKdc.principal(SERVER));
        assertThat(cached.getServer().getName()).isEqualTo("krbtgt/" + TestKdc.REALM + "@" + TestKdc.REALM);
        assertThat(cached.isCurrent()).isTrue();
        assertThat(java.nio.file.Files.getPosixFilePermissions(cache)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

        // Keys that are not the principal's: the batch cannot be submitted, and says why.
        YarnSettings.KerberosLogin wrong = new YarnSettings.KerberosLogin(TestKdc.principal(SERVER),
                KDC.keytab("someone-else/localhost"));
        assertThatThrownBy(() -> YarnLauncher.kerberos(wrong, proxied, dir.resolve("wrong"), new HashMap<>()))
                .isInstanceOf(io.sparkgate.server.launch.LaunchException.class)
                .hasMessageContaining(TestKdc.principal(SERVER))
                .hasMessageContaining("proxy user");
    }

    /** The TGT a JVM finds in a ticket cache file, as spark-submit's Hadoop login does with KRB5CCNAME. */
    private static KerberosTicket ticketFromCache(Path cache) throws Exception {
        Map<String, String> options = Map.of("useTicketCache", "true", "ticketCache", cache.toString(),
                "doNotPrompt", "true", "refreshKrb5Config", "true");
        javax.security.auth.login.Configuration jaas = new javax.security.auth.login.Configuration() {
            @Override
            public javax.security.auth.login.AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new javax.security.auth.login.AppConfigurationEntry[] {
                    new javax.security.auth.login.AppConfigurationEntry("com.sun.security.auth.module.Krb5LoginModule",
                            javax.security.auth.login.AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
            }
        };
        Subject subject = new Subject();
        new javax.security.auth.login.LoginContext("cache", subject, null, jaas).login();
        return subject.getPrivateCredentials(KerberosTicket.class).iterator().next();
    }
}
