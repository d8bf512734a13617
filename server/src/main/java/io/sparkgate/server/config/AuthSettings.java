package io.sparkgate.server.config;

import static io.sparkgate.server.config.ConfigKeys.AUTH_MODE;
import static io.sparkgate.server.config.ConfigKeys.HOST;
import static io.sparkgate.server.config.ConfigKeys.JWT_AUDIENCE;
import static io.sparkgate.server.config.ConfigKeys.JWT_CLOCK_SKEW;
import static io.sparkgate.server.config.ConfigKeys.JWT_ISSUER;
import static io.sparkgate.server.config.ConfigKeys.JWT_JWKS_FILE;
import static io.sparkgate.server.config.ConfigKeys.JWT_PUBLIC_KEY_FILE;
import static io.sparkgate.server.config.ConfigKeys.JWT_USER_CLAIM;
import static io.sparkgate.server.config.ConfigKeys.KERBEROS_KEYTAB;
import static io.sparkgate.server.config.ConfigKeys.KERBEROS_NAME_RULES;
import static io.sparkgate.server.config.ConfigKeys.KERBEROS_PRINCIPAL;
import static io.sparkgate.server.config.ConfigKeys.TLS_CERT_FILE;
import static io.sparkgate.server.config.ConfigKeys.TLS_CLIENT_AUTH;
import static io.sparkgate.server.config.ConfigKeys.TLS_CLIENT_CA_FILE;
import static io.sparkgate.server.config.ConfigKeys.TLS_KEY_FILE;
import static io.sparkgate.server.config.ConfigKeys.TOKENS_FILE;
import static io.sparkgate.server.config.ConfigKeys.USERS_FILE;
import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.ConfigLoader.ConfigException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code sparkgate.auth.*} and {@code sparkgate.tls.*} settings: who a caller is, and whether the
 * port speaks TLS. Only paths and names live here; the files are read (and their contents checked) by
 * the security package when the server starts, with errors that name the key.
 *
 * @param mode how callers prove who they are
 * @param usersFile {@code user:bcrypt-hash} lines, mode {@code basic}
 * @param tokensFile {@code user:sha256-hex-of-token} lines, mode {@code bearer}
 * @param jwt signed JWTs accepted in mode {@code bearer}, when an issuer key is configured
 * @param kerberos the service principal and keytab of mode {@code kerberos} (SPNEGO)
 * @param tls the port's certificate and client certificates; empty: plaintext
 *
 * <p>Over 300 lines because each of the five modes (basic, bearer with tokens or JWTs, mutual TLS,
 * Kerberos) has its own keys, and the rules between them (which keys a mode needs, which it refuses)
 * must be read together to be checked.
 */
public record AuthSettings(Mode mode, Optional<Path> usersFile, Optional<Path> tokensFile, Optional<Jwt> jwt,
                           Optional<Kerberos> kerberos, Optional<Tls> tls) {

    /** How callers prove who they are. */
    public enum Mode {
        /** Nobody is asked; the server then listens on loopback only. */
        NONE,
        /** HTTP basic credentials checked against BCrypt hashes. */
        BASIC,
        /** {@code Authorization: Bearer}: a static token or a signed JWT. */
        BEARER,
        /** The TLS client certificate; its subject's CN is the user. */
        MTLS,
        /** {@code Authorization: Negotiate}: a Kerberos ticket through SPNEGO; the principal's short name is the user. */
        KERBEROS
    }

    /** The mode each credential key belongs to. */
    private static final Map<String, Mode> MODE_OF_KEY = Map.ofEntries(
            Map.entry(USERS_FILE.name(), Mode.BASIC),
            Map.entry(TOKENS_FILE.name(), Mode.BEARER),
            Map.entry(JWT_PUBLIC_KEY_FILE.name(), Mode.BEARER),
            Map.entry(JWT_JWKS_FILE.name(), Mode.BEARER),
            Map.entry(JWT_ISSUER.name(), Mode.BEARER),
            Map.entry(JWT_AUDIENCE.name(), Mode.BEARER),
            Map.entry(JWT_USER_CLAIM.name(), Mode.BEARER),
            Map.entry(JWT_CLOCK_SKEW.name(), Mode.BEARER),
            Map.entry(KERBEROS_PRINCIPAL.name(), Mode.KERBEROS),
            Map.entry(KERBEROS_KEYTAB.name(), Mode.KERBEROS),
            Map.entry(KERBEROS_NAME_RULES.name(), Mode.KERBEROS));

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** Whether the server asks TLS clients for a certificate. */
    public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

    /**
     * Signed JWTs: verified with one public key (PEM) or a JWK set, from one issuer.
     *
     * @param publicKeyFile a PEM public key ({@code BEGIN PUBLIC KEY}) or certificate; or
     * @param jwksFile a JWK set (JSON) with the issuer's public keys
     * @param issuer the required {@code iss}
     * @param audience when present, {@code aud} must contain it
     * @param userClaim the claim that names the user ({@code sub} by default)
     * @param clockSkew how far {@code exp} / {@code nbf} may be off
     */
    public record Jwt(Optional<Path> publicKeyFile, Optional<Path> jwksFile, String issuer,
                      Optional<String> audience, String userClaim, Duration clockSkew) {
        public Jwt {
            requireNonNull(publicKeyFile, "publicKeyFile");
            requireNonNull(jwksFile, "jwksFile");
            requireNonNull(issuer, "issuer");
            requireNonNull(audience, "audience");
            requireNonNull(userClaim, "userClaim");
            requireNonNull(clockSkew, "clockSkew");
        }
    }

    /**
     * SPNEGO's acceptor: the server's HTTP service principal and the keytab with its keys.
     *
     * @param principal {@code HTTP/<fully qualified host>@REALM}, the name clients ask their KDC for;
     *                  {@code *}: any principal the keytab has keys for (a host with several names)
     * @param keytab the keytab file
     * @param nameRules how a client principal becomes the caller's user name, in Hadoop's
     *                  {@code hadoop.security.auth_to_local} language; parsed when the server starts
     */
    public record Kerberos(String principal, Path keytab, String nameRules) {
        public Kerberos {
            requireNonNull(principal, "principal");
            requireNonNull(keytab, "keytab");
            requireNonNull(nameRules, "nameRules");
        }

        /** Whether tickets for any principal of the keytab are accepted ({@code principal = *}). */
        public boolean anyPrincipal() {
            return principal.equals("*");
        }
    }

    /**
     * The port's TLS.
     *
     * @param certFile the server's certificate chain (PEM)
     * @param keyFile the server's private key (PEM, PKCS#8)
     * @param clientCaFile CA certificates that client certificates must chain to (PEM)
     * @param clientAuth whether a client certificate is asked for; NONE without a client CA
     */
    public record Tls(Path certFile, Path keyFile, Optional<Path> clientCaFile, ClientAuth clientAuth) {
        public Tls {
            requireNonNull(certFile, "certFile");
            requireNonNull(keyFile, "keyFile");
            requireNonNull(clientCaFile, "clientCaFile");
            requireNonNull(clientAuth, "clientAuth");
        }
    }

    public AuthSettings {
        requireNonNull(mode, "mode");
        requireNonNull(usersFile, "usersFile");
        requireNonNull(tokensFile, "tokensFile");
        requireNonNull(jwt, "jwt");
        requireNonNull(kerberos, "kerberos");
        requireNonNull(tls, "tls");
    }

    public static AuthSettings defaults() {
        return new AuthSettings(Mode.NONE, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    /** The section from the config's {@code sparkgate.*} values; a bad value throws {@link ConfigLoader.ConfigException}. */
    static AuthSettings from(Map<String, String> values) {
        Mode mode = parseEnum(Mode.class, AUTH_MODE.name(), AUTH_MODE.get(values));
        // A credential key of another mode is a mistake (e.g. a users file while the mode is still
        // none): refuse it rather than run with less protection than the operator meant.
        for (Map.Entry<String, Mode> e : MODE_OF_KEY.entrySet()) {
            if (values.containsKey(e.getKey()) && e.getValue() != mode) {
                throw new ConfigException(e.getKey() + " is set but " + AUTH_MODE + " = " + lower(mode)
                        + "; it belongs to mode " + lower(e.getValue()));
            }
        }
        Optional<Tls> tls = tls(values, mode);
        Optional<Path> usersFile = Optional.empty();
        Optional<Path> tokensFile = Optional.empty();
        Optional<Jwt> jwt = Optional.empty();
        Optional<Kerberos> kerberos = Optional.empty();
        switch (mode) {
            case NONE -> {
                String host = HOST.get(values);
                if (!isLoopback(host)) {
                    throw new ConfigException(AUTH_MODE + " = none (the default) serves everyone without credentials, "
                            + "so it listens on loopback only, but " + HOST + " = " + host
                            + " is not a loopback address: set " + AUTH_MODE + " to basic, bearer, mtls or kerberos, or "
                            + HOST + " to 127.0.0.1");
                }
            }
            case BASIC -> usersFile = Optional.of(readableFile(values, USERS_FILE.name(), "mode basic needs it"));
            case BEARER -> {
                tokensFile = optionalFile(values, TOKENS_FILE.name());
                jwt = jwt(values);
                if (tokensFile.isEmpty() && jwt.isEmpty()) {
                    throw new ConfigException(AUTH_MODE + " = bearer needs " + TOKENS_FILE + " (static tokens) or "
                            + JWT_PUBLIC_KEY_FILE + " / " + JWT_JWKS_FILE + " (signed JWTs), or both");
                }
            }
            case MTLS -> {
                if (tls.isEmpty() || tls.get().clientCaFile().isEmpty()) {
                    throw new ConfigException(AUTH_MODE + " = mtls needs TLS with client certificates: set "
                            + TLS_CERT_FILE + ", " + TLS_KEY_FILE + " and " + TLS_CLIENT_CA_FILE);
                }
            }
            case KERBEROS -> {
                String principal = values.get(KERBEROS_PRINCIPAL.name());
                if (principal == null || principal.isBlank()) {
                    throw new ConfigException(AUTH_MODE + " = kerberos needs " + KERBEROS_PRINCIPAL
                            + " (the server's HTTP/<host>@REALM principal, or * for any in the keytab) and "
                            + KERBEROS_KEYTAB);
                }
                principal = principal.strip();
                if (!principal.equals("*") && !principal.contains("@")) {
                    throw new ConfigException("bad value for " + KERBEROS_PRINCIPAL + ": '" + principal
                            + "' has no realm; write HTTP/<host>@REALM");
                }
                if (principal.contains("_HOST")) {
                    principal = principal.replace("_HOST", serverHostName(HOST.get(values)));
                }
                kerberos = Optional.of(new Kerberos(principal,
                        readableFile(values, KERBEROS_KEYTAB.name(), "mode kerberos needs the service principal's keytab"),
                        KERBEROS_NAME_RULES.get(values).strip()));
            }
            default -> throw new IllegalStateException(mode.name());
        }
        return new AuthSettings(mode, usersFile, tokensFile, jwt, kerberos, tls);
    }

    /**
     * What Hadoop puts for {@code _HOST} in a principal: the bound host's fully qualified name, lower
     * case; the machine's own name when the server binds every address.
     */
    private static String serverHostName(String host) {
        try {
            InetAddress address = InetAddress.getByName(host.strip());
            InetAddress named = address.isAnyLocalAddress() ? InetAddress.getLocalHost() : address;
            return named.getCanonicalHostName().toLowerCase(Locale.ROOT);
        } catch (UnknownHostException e) {
            throw new ConfigException("cannot resolve " + HOST + " = " + host + " for _HOST in "
                    + KERBEROS_PRINCIPAL + ": " + e.getMessage());
        }
    }

    private static Optional<Tls> tls(Map<String, String> values, Mode mode) {
        Optional<Path> cert = optionalFile(values, TLS_CERT_FILE.name());
        Optional<Path> key = optionalFile(values, TLS_KEY_FILE.name());
        Optional<Path> clientCa = optionalFile(values, TLS_CLIENT_CA_FILE.name());
        String clientAuthValue = values.get(TLS_CLIENT_AUTH.name());
        if (cert.isEmpty() && key.isEmpty()) {
            if (clientCa.isPresent() || clientAuthValue != null) {
                throw new ConfigException((clientCa.isPresent() ? TLS_CLIENT_CA_FILE : TLS_CLIENT_AUTH)
                        + " needs TLS: set " + TLS_CERT_FILE + " and " + TLS_KEY_FILE);
            }
            return Optional.empty();
        }
        if (cert.isEmpty() || key.isEmpty()) {
            throw new ConfigException("TLS needs both " + TLS_CERT_FILE + " and " + TLS_KEY_FILE + "; "
                    + (cert.isEmpty() ? TLS_CERT_FILE : TLS_KEY_FILE) + " is not set");
        }
        ClientAuth clientAuth;
        if (clientCa.isEmpty() && mode == Mode.MTLS) {
            throw new ConfigException(AUTH_MODE + " = mtls needs " + TLS_CLIENT_CA_FILE
                    + " (the CA that client certificates chain to)");
        }
        if (clientCa.isEmpty()) {
            if (clientAuthValue != null && !clientAuthValue.trim().equalsIgnoreCase("none")) {
                throw new ConfigException(TLS_CLIENT_AUTH + " = " + clientAuthValue + " needs " + TLS_CLIENT_CA_FILE
                        + " (the CA that client certificates chain to)");
            }
            clientAuth = ClientAuth.NONE;
        } else if (clientAuthValue != null) {
            clientAuth = parseEnum(ClientAuth.class, TLS_CLIENT_AUTH.name(), clientAuthValue);
        } else {
            clientAuth = mode == Mode.MTLS ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL;
        }
        if (mode == Mode.MTLS && clientAuth == ClientAuth.NONE) {
            throw new ConfigException(AUTH_MODE + " = mtls needs client certificates, but " + TLS_CLIENT_AUTH + " = none");
        }
        return Optional.of(new Tls(cert.get(), key.get(), clientCa, clientAuth));
    }

    private static Optional<Jwt> jwt(Map<String, String> values) {
        Optional<Path> publicKey = optionalFile(values, JWT_PUBLIC_KEY_FILE.name());
        Optional<Path> jwks = optionalFile(values, JWT_JWKS_FILE.name());
        String issuer = values.get(JWT_ISSUER.name());
        if (publicKey.isEmpty() && jwks.isEmpty()) {
            for (String key : Set.of(JWT_ISSUER.name(), JWT_AUDIENCE.name(), JWT_USER_CLAIM.name(), JWT_CLOCK_SKEW.name())) {
                if (values.containsKey(key)) {
                    throw new ConfigException(key + " needs the issuer's key: set " + JWT_PUBLIC_KEY_FILE + " or "
                            + JWT_JWKS_FILE);
                }
            }
            return Optional.empty();
        }
        if (publicKey.isPresent() && jwks.isPresent()) {
            throw new ConfigException("set one of " + JWT_PUBLIC_KEY_FILE + " and " + JWT_JWKS_FILE + ", not both");
        }
        if (issuer == null || issuer.isBlank()) {
            throw new ConfigException(JWT_ISSUER + " is required with signed JWTs: tokens must name their issuer");
        }
        String userClaim = JWT_USER_CLAIM.get(values);
        if (userClaim.isEmpty()) {
            throw new ConfigException(JWT_USER_CLAIM + " must not be empty");
        }
        Duration skew = JWT_CLOCK_SKEW.get(values);
        Optional<String> audience = Optional.ofNullable(values.get(JWT_AUDIENCE.name())).map(String::trim)
                .filter(a -> !a.isEmpty());
        return Optional.of(new Jwt(publicKey, jwks, issuer.trim(), audience, userClaim, skew));
    }

    private static Optional<Path> optionalFile(Map<String, String> values, String key) {
        String value = values.get(key);
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(readableFile(values, key, null));
    }

    private static Path readableFile(Map<String, String> values, String key, String why) {
        String value = values.get(key);
        if (value == null || value.isBlank()) {
            throw new ConfigException(key + " is not set" + (why == null ? "" : " (" + why + ")"));
        }
        Path path = Path.of(value.trim()).toAbsolutePath().normalize();
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new ConfigException("bad value for " + key + ": " + path + " is not a readable file");
        }
        return path;
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String key, String value) {
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("bad value for " + key + ": '" + value + "'; one of "
                    + java.util.Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT))
                            .toList());
        }
    }

    /** Whether {@code host} names only this machine: a loopback address or a name that resolves to one. */
    public static boolean isLoopback(String host) {
        try {
            InetAddress[] addresses = InetAddress.getAllByName(host.trim());
            for (InetAddress address : addresses) {
                if (!address.isLoopbackAddress()) {
                    return false;
                }
            }
            return addresses.length > 0;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
