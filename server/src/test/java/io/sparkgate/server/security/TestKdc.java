package io.sparkgate.server.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosTicket;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import org.apache.kerby.kerberos.kerb.KrbException;
import org.apache.kerby.kerberos.kerb.client.KrbClient;
import org.apache.kerby.kerberos.kerb.server.KdcConfigKey;
import org.apache.kerby.kerberos.kerb.server.SimpleKdcServer;
import org.apache.kerby.kerberos.kerb.type.ticket.TgtTicket;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.GSSName;
import org.ietf.jgss.Oid;

/**
 * A real KDC in the test JVM (Apache Kerby's SimpleKdcServer on a free loopback port), one per JVM:
 * the JDK reads one {@code krb5.conf} per process, so every test class shares this realm. Users get
 * keytabs or ticket caches from it and make SPNEGO tokens with the JDK's GSS-API, as
 * {@code curl --negotiate} does with the system's.
 */
public final class TestKdc {

    public static final String REALM = "SPARKGATE.TEST";
    /** The server's SPNEGO principal: clients ask for {@code HTTP@localhost}, i.e. {@code HTTP/localhost}. */
    public static final String HTTP_PRINCIPAL = "HTTP/localhost@" + REALM;
    /**
     * How far clocks may differ (krb5.conf {@code clockskew}): small, so that a ticket past its end is
     * refused seconds after, not five minutes after.
     */
    public static final int CLOCK_SKEW_SECONDS = 5;
    private static final Oid SPNEGO = oid("1.3.6.1.5.5.2");
    private static final Oid KRB5_PRINCIPAL_NAME = oid("1.2.840.113554.1.2.2.1");

    private static TestKdc instance;

    private final SimpleKdcServer kdc;
    private final Path dir;
    private final Path krb5Conf;
    private final Map<String, Path> keytabs = new HashMap<>();
    private final java.util.Set<String> passwordUsers = new java.util.HashSet<>();

    private TestKdc(SimpleKdcServer kdc, Path dir, Path krb5Conf) {
        this.kdc = kdc;
        this.dir = dir;
        this.krb5Conf = krb5Conf;
    }

    /** The JVM's KDC, started on first use; it stops with the JVM. */
    public static synchronized TestKdc get() {
        if (instance == null) {
            instance = start();
        }
        return instance;
    }

    private static TestKdc start() {
        try {
            Path dir = Files.createTempDirectory("sparkgate-kdc");
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            }
            SimpleKdcServer kdc = new SimpleKdcServer();
            kdc.setWorkDir(dir.toFile());
            kdc.setKdcRealm(REALM);
            kdc.setKdcHost("localhost");
            kdc.setAllowUdp(false);
            kdc.setKdcTcpPort(port);
            kdc.init();
            kdc.start();
            // Our own krb5.conf, not Kerby's: TCP only, no ticket_lifetime (so the KDC's policy decides),
            // a small clock skew.
            Path krb5Conf = dir.resolve("krb5.conf");
            Files.writeString(krb5Conf, String.join("\n",
                    "[libdefaults]",
                    "  default_realm = " + REALM,
                    "  udp_preference_limit = 1",
                    "  dns_lookup_kdc = false",
                    "  dns_lookup_realm = false",
                    // HTTP@localhost stays HTTP/localhost, whatever this machine's resolver says.
                    "  dns_canonicalize_hostname = false",
                    "  clockskew = " + CLOCK_SKEW_SECONDS,
                    "  forwardable = true",
                    "[realms]",
                    "  " + REALM + " = {",
                    "    kdc = localhost:" + port,
                    "  }",
                    "[domain_realm]",
                    "  localhost = " + REALM,
                    ""));
            System.setProperty("java.security.krb5.conf", krb5Conf.toString());
            TestKdc testKdc = new TestKdc(kdc, dir, krb5Conf);
            // The JDK reads krb5.conf once per process; a login with refreshKrb5Config makes it read ours
            // even if something in this JVM looked at Kerberos before.
            testKdc.keytab("sparkgate-kdc-probe");
            testKdc.login("sparkgate-kdc-probe");
            return testKdc;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (KrbException e) {
            throw new IllegalStateException("cannot start the test KDC", e);
        }
    }

    public Path krb5Conf() {
        return krb5Conf;
    }

    /** {@code name@REALM} unless {@code name} has a realm. */
    public static String principal(String name) {
        return name.contains("@") ? name : name + "@" + REALM;
    }

    /** A keytab with the keys of {@code name} (created in the KDC on first use, with a random key). */
    public synchronized Path keytab(String name) {
        String principal = principal(name);
        return keytabs.computeIfAbsent(principal, p -> {
            Path file = dir.resolve(p.replace('/', '_').replace('@', '_') + ".keytab");
            try {
                kdc.createPrincipal(p);
                kdc.exportPrincipal(p, file.toFile());
            } catch (KrbException e) {
                throw new IllegalStateException("cannot create " + p, e);
            }
            return file;
        });
    }

    /** Creates {@code name} with a password, unless it exists (for ticket caches made as {@code kinit} does). */
    public synchronized void createUserOnce(String name, String password) {
        if (!passwordUsers.add(principal(name))) {
            return;
        }
        try {
            kdc.createPrincipal(principal(name), password);
        } catch (KrbException e) {
            throw new IllegalStateException("cannot create " + name, e);
        }
    }

    /**
     * {@code kinit name} into a ticket cache file: a TGT from the KDC with the user's password, written in
     * the MIT credential cache format the JDK and {@code klist} read.
     */
    public Path kinit(String name, String password, Path ccache) {
        try {
            KrbClient client = kdc.getKrbClient();
            TgtTicket tgt = client.requestTgt(principal(name), password);
            Files.deleteIfExists(ccache);
            client.storeTicket(tgt, ccache.toFile());
            return ccache;
        } catch (KrbException | IOException e) {
            throw new IllegalStateException("kinit " + name + " failed", e);
        }
    }

    /**
     * Runs {@code action} while the KDC issues tickets that live {@code seconds} (its policy is the
     * longest lifetime; the shortest is lowered to match), then restores the policy.
     */
    public synchronized <T> T withTicketLifetime(long seconds, java.util.function.Supplier<T> action) {
        org.apache.kerby.kerberos.kerb.server.KdcConfig config = kdc.getKdcConfig();
        long max = config.getMaximumTicketLifetime();
        long min = config.getMinimumTicketLifetime();
        config.setLong(KdcConfigKey.MAXIMUM_TICKET_LIFETIME, seconds);
        config.setLong(KdcConfigKey.MINIMUM_TICKET_LIFETIME, 0L);
        try {
            return action.get();
        } finally {
            config.setLong(KdcConfigKey.MAXIMUM_TICKET_LIFETIME, max);
            config.setLong(KdcConfigKey.MINIMUM_TICKET_LIFETIME, min);
        }
    }

    /** A logged-in user (a TGT in a Subject) from the user's keytab, as {@code kinit -kt} does. */
    public Subject login(String name) {
        Path keytab = keytab(name);
        Map<String, String> options = new HashMap<>();
        options.put("useKeyTab", "true");
        options.put("keyTab", keytab.toString());
        options.put("principal", principal(name));
        options.put("storeKey", "false");
        options.put("doNotPrompt", "true");
        options.put("isInitiator", "true");
        options.put("refreshKrb5Config", "true");
        Subject subject = new Subject();
        Configuration conf = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String ignored) {
                return new AppConfigurationEntry[] {new AppConfigurationEntry(
                        "com.sun.security.auth.module.Krb5LoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
            }
        };
        try {
            new LoginContext("sparkgate-test", subject, null, conf).login();
        } catch (LoginException e) {
            throw new IllegalStateException("login of " + name + " failed", e);
        }
        return subject;
    }

    /** {@code Negotiate <token>} for {@code service} (e.g. {@code HTTP/localhost}), made as {@code user}. */
    public static String negotiate(Subject user, String service) {
        byte[] token = doAs(user, () -> {
            GSSManager gss = GSSManager.getInstance();
            GSSContext context = gss.createContext(gss.createName(principal(service), KRB5_PRINCIPAL_NAME),
                    SPNEGO, null, GSSContext.DEFAULT_LIFETIME);
            try {
                context.requestMutualAuth(true);
                return context.initSecContext(new byte[0], 0, 0);
            } finally {
                context.dispose();
            }
        });
        return "Negotiate " + Base64.getEncoder().encodeToString(token);
    }

    /** The service ticket for {@code service} that the JDK keeps in {@code user} after a {@link #negotiate}. */
    public static KerberosTicket serviceTicket(Subject user, String service) {
        return user.getPrivateCredentials(KerberosTicket.class).stream()
                .filter(t -> t.getServer().getName().equals(principal(service)))
                .findFirst().orElseThrow(() -> new IllegalStateException("no ticket for " + service));
    }

    @SuppressWarnings("removal")
    private static <T> T doAs(Subject subject, PrivilegedExceptionAction<T> action) {
        try {
            return Subject.doAs(subject, action);
        } catch (java.security.PrivilegedActionException e) {
            throw new IllegalStateException(e.getException());
        }
    }

    private static Oid oid(String value) {
        try {
            return new Oid(value);
        } catch (GSSException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
