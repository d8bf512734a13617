package io.sparkgate.client;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.security.auth.Subject;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.GSSName;
import org.ietf.jgss.Oid;

/**
 * SPNEGO tokens for {@code Authorization: Negotiate}, made by the JDK's GSS-API from the user's Kerberos
 * tickets, as {@code curl --negotiate} makes them: the user runs {@code kinit} first and the tickets come
 * from the ticket cache ({@code $KRB5CCNAME}, else the system's default cache), or from a Subject the
 * application logged in itself (e.g. from a keytab).
 *
 * <p>Each call needs a new token (servers refuse a replayed one); {@link #header(String)} makes one
 * for the service {@code HTTP@<server host>}, i.e. the principal {@code HTTP/<server host>@REALM}, of the
 * server the call goes to (replicas each have their own). Thread-safe: the Subject is only read, every
 * token gets its own GSS context.
 */
public final class Negotiator {

    private static final Oid SPNEGO = oid("1.3.6.1.5.5.2");

    private final Subject user;

    private Negotiator(Subject user) {
        this.user = user;
    }

    /**
     * The tickets of the user's ticket cache.
     *
     * @param ticketCache the cache file; empty: {@code $KRB5CCNAME}, else the system's default cache
     * @throws SparkgateException (UNAUTHENTICATED) when the cache holds no valid ticket-granting ticket
     */
    public static Negotiator fromTicketCache(Optional<Path> ticketCache) {
        requireNonNull(ticketCache, "ticketCache");
        Map<String, String> options = new HashMap<>();
        options.put("useTicketCache", "true");
        options.put("doNotPrompt", "true");
        options.put("renewTGT", "false");
        ticketCache.ifPresent(cache -> options.put("ticketCache", cache.toAbsolutePath().toString()));
        Subject subject = new Subject();
        Configuration conf = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new AppConfigurationEntry[] {new AppConfigurationEntry(
                        "com.sun.security.auth.module.Krb5LoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
            }
        };
        try {
            new LoginContext("sparkgate-client", subject, null, conf).login();
        } catch (LoginException e) {
            throw new SparkgateException(io.grpc.Status.UNAUTHENTICATED.withDescription(
                    "no Kerberos ticket in " + ticketCache.map(Path::toString).orElse("the ticket cache")
                            + " (run kinit first): " + e.getMessage()).asRuntimeException());
        }
        return new Negotiator(subject);
    }

    /** The tickets of {@code user}, a Subject logged in by the application (e.g. from a keytab). */
    public static Negotiator fromSubject(Subject user) {
        return new Negotiator(requireNonNull(user, "user"));
    }

    /** A fresh {@code Negotiate <token>} header value for the server at {@code serverHost}. */
    public String header(String serverHost) {
        requireNonNull(serverHost, "serverHost");
        try {
            @SuppressWarnings("removal") // Subject.callAs is Java 18+; the client targets 17
            byte[] token = Subject.doAs(user, (PrivilegedExceptionAction<byte[]>) () -> {
                GSSManager gss = GSSManager.getInstance();
                GSSName service = gss.createName("HTTP@" + serverHost, GSSName.NT_HOSTBASED_SERVICE);
                GSSContext context = gss.createContext(service, SPNEGO, null, GSSContext.DEFAULT_LIFETIME);
                try {
                    return context.initSecContext(new byte[0], 0, 0);
                } finally {
                    context.dispose();
                }
            });
            return "Negotiate " + Base64.getEncoder().encodeToString(token);
        } catch (PrivilegedActionException e) {
            throw new SparkgateException(io.grpc.Status.UNAUTHENTICATED.withDescription(
                    "cannot get a Kerberos ticket for HTTP/" + serverHost + ": " + e.getException().getMessage())
                    .asRuntimeException());
        }
    }

    /** The host part of {@code host:port}, {@code [v6]:port} or a URL. */
    public static String hostOf(String target) {
        String t = target.strip();
        int scheme = t.indexOf("://");
        if (scheme >= 0) {
            t = t.substring(scheme + 3);
        }
        int slash = t.indexOf('/');
        if (slash >= 0) {
            t = t.substring(0, slash);
        }
        if (t.startsWith("[")) {
            return t.substring(1, t.indexOf(']'));
        }
        int colon = t.lastIndexOf(':');
        return colon < 0 ? t : t.substring(0, colon);
    }

    private static Oid oid(String value) {
        try {
            return new Oid(value);
        } catch (GSSException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
