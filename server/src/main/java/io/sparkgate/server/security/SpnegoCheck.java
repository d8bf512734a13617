package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.AuthSettings;
import io.sparkgate.server.config.ConfigLoader.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Base64;
import java.util.Optional;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosPrincipal;
import javax.security.auth.kerberos.KeyTab;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSCredential;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.GSSName;
import org.ietf.jgss.Oid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Authorization: Negotiate <token>} (SPNEGO, RFC 4559) accepted through the JDK's GSS-API with
 * the keys of the server's {@code HTTP/<host>} principal from a keytab; the caller is the client
 * principal's short name (Hadoop's default {@code auth_to_local} rule: {@code alice/admin@REALM} →
 * {@code alice}, for principals of the service's own realm).
 *
 * <p>The GSS-API does all the Kerberos: it decrypts the service ticket with the keytab's key, checks
 * the ticket's times and the authenticator's (clock skew from {@code krb5.conf}), and refuses a token
 * seen before (the JDK's replay cache). Each request carries a fresh token, as {@code curl --negotiate}
 * and browsers send, so no session state is kept here. The keytab is read by the JDK when it needs the
 * keys, so a rotated keytab file is picked up without a restart.
 *
 * <p>Thread-safe: the acceptor credential is immutable; every request gets its own {@link GSSContext}.
 */
final class SpnegoCheck {

    private static final Logger log = LoggerFactory.getLogger(SpnegoCheck.class);

    static final String SCHEME = "Negotiate";
    static final String INVALID = "invalid credentials";
    private static final Oid SPNEGO = oid("1.3.6.1.5.5.2");
    private static final Oid KRB5 = oid("1.2.840.113554.1.2.2");
    private static final Oid KRB5_PRINCIPAL_NAME = oid("1.2.840.113554.1.2.2.1");

    private final Subject service;
    private final GSSCredential acceptor;
    private final KerberosNameRules names;

    private SpnegoCheck(Subject service, GSSCredential acceptor, KerberosNameRules names) {
        this.service = service;
        this.acceptor = acceptor;
        this.names = names;
    }

    /**
     * The acceptor for {@code principal} ({@code HTTP/host@REALM}, or {@code *} for any principal of the
     * keytab) with the keys of {@code keytab}.
     *
     * @throws ConfigException naming the key when the keytab holds no key for the principal
     */
    static SpnegoCheck load(AuthSettings.Kerberos settings) {
        requireNonNull(settings, "settings");
        KerberosNameRules names;
        try {
            names = KerberosNameRules.parse(settings.nameRules());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("bad value for " + ConfigKeys.KERBEROS_NAME_RULES.name() + ": " + e.getMessage());
        }
        Path file = settings.keytab();
        Subject subject = new Subject();
        KeyTab keytab;
        if (settings.anyPrincipal()) {
            keytab = KeyTab.getUnboundInstance(file.toFile());
        } else {
            KerberosPrincipal principal;
            try {
                principal = new KerberosPrincipal(settings.principal());
            } catch (IllegalArgumentException e) {
                throw new ConfigException("bad value for " + ConfigKeys.KERBEROS_PRINCIPAL.name() + ": '"
                        + settings.principal() + "' (" + e.getMessage() + ")");
            }
            keytab = KeyTab.getInstance(principal, file.toFile());
            if (keytab.getKeys(principal).length == 0) {
                throw new ConfigException(ConfigKeys.KERBEROS_KEYTAB.name() + " = " + file + " holds no key for "
                        + ConfigKeys.KERBEROS_PRINCIPAL.name() + " = " + principal.getName()
                        + (Files.isReadable(file) ? "" : " (the file cannot be read)"));
            }
            subject.getPrincipals().add(principal);
        }
        subject.getPrivateCredentials().add(keytab);
        try {
            GSSManager gss = GSSManager.getInstance();
            GSSName name = settings.anyPrincipal() ? null
                    : gss.createName(settings.principal(), KRB5_PRINCIPAL_NAME);
            GSSCredential credential = doAs(subject, () -> gss.createCredential(name,
                    GSSCredential.INDEFINITE_LIFETIME, new Oid[] {SPNEGO, KRB5}, GSSCredential.ACCEPT_ONLY));
            log.info("SPNEGO: accepting tickets for {} with the keys of {}",
                    settings.anyPrincipal() ? "any principal" : settings.principal(), file);
            return new SpnegoCheck(subject, credential, names);
        } catch (GSSException e) {
            throw new ConfigException("cannot accept Kerberos tickets as " + settings.principal() + " with "
                    + ConfigKeys.KERBEROS_KEYTAB.name() + " = " + file + ": " + e.getMessage());
        }
    }

    /** The challenge of a refusal: the bare scheme, as every SPNEGO server sends it. */
    static String challenge() {
        return SCHEME;
    }

    /**
     * The caller a {@code Negotiate} header proves, and the token to send back for mutual
     * authentication (empty when the mechanism has none).
     *
     * @param authorization the request's {@code Authorization} header, or null
     * @throws AuthenticationException when the header is missing, not SPNEGO or does not verify
     */
    Accepted check(String authorization) {
        byte[] token = token(authorization);
        GSSContext context = null;
        try {
            context = doAs(service, () -> GSSManager.getInstance().createContext(acceptor));
            GSSContext ctx = context;
            byte[] reply = doAs(service, () -> ctx.acceptSecContext(token, 0, token.length));
            if (!context.isEstablished()) {
                // Kerberos through SPNEGO completes in one round; a mechanism that needs more (NTLM
                // wrapped in SPNEGO by a Windows client without a ticket) is not supported.
                throw new AuthenticationException(INVALID);
            }
            String principal = context.getSrcName().toString();
            String user = names.shortName(principal, defaultRealm(context.getTargName().toString()))
                    .orElseThrow(() -> {
                        log.info("SPNEGO: no name rule ({}) maps {} to a user; refused", names, principal);
                        return new AuthenticationException(INVALID);
                    });
            return new Accepted(Caller.of(user),
                    reply == null || reply.length == 0 ? Optional.empty()
                            : Optional.of(SCHEME + " " + Base64.getEncoder().encodeToString(reply)));
        } catch (GSSException e) {
            // Why a ticket was refused (expired, for another service, a replay, clock skew) is for the
            // server's log; the caller learns only that it was.
            log.info("SPNEGO: refused a ticket: {}", e.getMessage());
            throw new AuthenticationException(INVALID);
        } finally {
            if (context != null) {
                try {
                    context.dispose();
                } catch (GSSException e) {
                    log.debug("disposing a GSS context", e);
                }
            }
        }
    }

    /** What a valid token proved. */
    record Accepted(Caller caller, Optional<String> mutualAuthHeader) {}

    private static byte[] token(String authorization) {
        if (authorization == null) {
            throw new AuthenticationException(Authentication.REQUIRED);
        }
        String value = authorization.strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).equalsIgnoreCase(SCHEME)) {
            throw new AuthenticationException(Authentication.REQUIRED);
        }
        try {
            byte[] token = Base64.getDecoder().decode(value.substring(space + 1).strip());
            if (token.length == 0) {
                throw new AuthenticationException(INVALID);
            }
            return token;
        } catch (IllegalArgumentException e) {
            throw new AuthenticationException(INVALID);
        }
    }

    /**
     * The realm whose principals rule {@code DEFAULT} maps: krb5.conf's {@code default_realm}, as for
     * Hadoop's (and so Livy's) name rules; the service's own realm when krb5.conf names none.
     */
    static String defaultRealm(String servicePrincipal) {
        try {
            String realm = new KerberosPrincipal("sparkgate-default-realm").getRealm();
            if (realm != null && !realm.isEmpty()) {
                return realm;
            }
        } catch (IllegalArgumentException e) {
            // no default realm configured
        }
        return realmOf(servicePrincipal);
    }

    private static String realmOf(String principal) {
        int at = principal.lastIndexOf('@');
        return at < 0 ? "" : principal.substring(at + 1);
    }

    private static String acceptorName(GSSContext ctx) {
        try {
            return ctx.getTargName().toString();
        } catch (GSSException e) {
            return "?";
        }
    }

    @SuppressWarnings("removal") // Subject.callAs is Java 18+; the server targets 17
    private static <T> T doAs(Subject subject, PrivilegedExceptionAction<T> action) throws GSSException {
        try {
            return Subject.doAs(subject, action);
        } catch (PrivilegedActionException e) {
            if (e.getException() instanceof GSSException gss) {
                throw gss;
            }
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
