package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import io.sparkgate.server.config.AuthSettings;
import io.sparkgate.server.config.ConfigLoader.ConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code Authorization: Bearer} tokens: static tokens from a file of {@code user:sha256-hex} lines,
 * and signed JWTs from one issuer.
 *
 * <p>A static token is hashed and compared with every line in constant time (no early exit), so
 * neither the result nor its timing tells how much of a guess was right. A JWT must be signed with an
 * algorithm of the issuer key's type (RSA: RS/PS; EC: ES), never {@code none} and never HMAC (which
 * would let anyone holding the public key sign); {@code iss} must match, {@code aud} contain the
 * configured audience, {@code exp} be present and not past (with a small clock skew).
 */
final class BearerCheck {

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");
    static final String INVALID = "invalid token";
    static final String EXPIRED = "token expired";

    private final List<CredentialFile.Entry> tokens;
    private final Optional<DefaultJWTProcessor<SecurityContext>> jwt;
    private final String userClaim;

    private BearerCheck(List<CredentialFile.Entry> tokens, Optional<DefaultJWTProcessor<SecurityContext>> jwt,
                        String userClaim) {
        this.tokens = tokens;
        this.jwt = jwt;
        this.userClaim = userClaim;
    }

    static BearerCheck load(Optional<Path> tokensFile, Optional<AuthSettings.Jwt> jwt) {
        List<CredentialFile.Entry> tokens = tokensFile
                .map(file -> CredentialFile.read(ConfigKeys.TOKENS_FILE.name(), file, h -> SHA256_HEX.matcher(h).matches(),
                        "SHA-256 hex of a token", false))
                .orElse(List.of())
                .stream()
                .map(e -> new CredentialFile.Entry(e.user(), e.hash().toLowerCase(java.util.Locale.ROOT)))
                .toList();
        return new BearerCheck(tokens, jwt.map(BearerCheck::processor),
                jwt.map(AuthSettings.Jwt::userClaim).orElse("sub"));
    }

    /** The caller this token proves. */
    Caller check(String token) {
        Optional<String> user = staticTokenUser(token);
        if (user.isPresent()) {
            return Caller.of(user.get());
        }
        if (jwt.isEmpty()) {
            throw new AuthenticationException(INVALID);
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.get().process(token, null);
        } catch (ExpiredJWTException e) {
            throw new AuthenticationException(EXPIRED);
        } catch (ParseException | BadJOSEException | JOSEException e) {
            throw new AuthenticationException(INVALID);
        }
        Object name = claims.getClaim(userClaim);
        if (!(name instanceof String s) || s.isBlank()) {
            throw new AuthenticationException(INVALID);
        }
        return Caller.of(s);
    }

    private Optional<String> staticTokenUser(String token) {
        if (tokens.isEmpty()) {
            return Optional.empty();
        }
        byte[] presented = HexFormat.of().formatHex(CredentialHashes.sha256(token)).getBytes();
        String found = null;
        for (CredentialFile.Entry entry : tokens) {
            if (MessageDigest.isEqual(presented, entry.hash().getBytes()) && found == null) {
                found = entry.user();
            }
        }
        return Optional.ofNullable(found);
    }

    private static DefaultJWTProcessor<SecurityContext> processor(AuthSettings.Jwt settings) {
        JWKSet keys = settings.publicKeyFile().map(BearerCheck::pemKey)
                .orElseGet(() -> jwks(settings.jwksFile().orElseThrow()));
        Set<JWSAlgorithm> algorithms = new HashSet<>();
        for (JWK key : keys.getKeys()) {
            if (key.getKeyType().equals(KeyType.RSA)) {
                algorithms.addAll(JWSAlgorithm.Family.RSA);
            } else if (key.getKeyType().equals(KeyType.EC)) {
                algorithms.addAll(JWSAlgorithm.Family.EC);
            } else {
                // An 'oct' (HMAC) key in a file of public keys would make every reader of the file a signer.
                throw new ConfigException("bad value for " + ConfigKeys.JWT_JWKS_FILE.name() + ": key type "
                        + key.getKeyType() + " is not accepted; only RSA and EC public keys");
            }
            if (key.isPrivate()) {
                throw new ConfigException("bad value for " + ConfigKeys.JWT_JWKS_FILE.name()
                        + ": it holds a private key; give the server the public keys only");
            }
        }
        DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, new ImmutableJWKSet<>(keys)));
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
                settings.audience().map(Set::of).orElse(null),
                new JWTClaimsSet.Builder().issuer(settings.issuer()).build(),
                Set.of("exp", settings.userClaim()),
                null);
        claims.setMaxClockSkew((int) Math.min(Integer.MAX_VALUE, settings.clockSkew().toSeconds()));
        processor.setJWTClaimsSetVerifier(claims);
        return processor;
    }

    private static JWKSet pemKey(Path file) {
        PublicKey key = Pem.publicKey(ConfigKeys.JWT_PUBLIC_KEY_FILE.name(), file);
        if (key instanceof RSAPublicKey rsa) {
            return new JWKSet(new RSAKey.Builder(rsa).build());
        }
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (curve == null) {
                throw new ConfigException("bad value for " + ConfigKeys.JWT_PUBLIC_KEY_FILE.name()
                        + ": unsupported EC curve; use P-256, P-384 or P-521");
            }
            return new JWKSet(new ECKey.Builder(curve, ec).build());
        }
        throw new ConfigException("bad value for " + ConfigKeys.JWT_PUBLIC_KEY_FILE.name() + ": a " + key.getAlgorithm()
                + " key; only RSA and EC keys are accepted");
    }

    private static JWKSet jwks(Path file) {
        try {
            JWKSet set = JWKSet.load(file.toFile());
            if (set.getKeys().isEmpty()) {
                throw new ConfigException("bad value for " + ConfigKeys.JWT_JWKS_FILE.name() + ": " + file + " has no keys");
            }
            return set;
        } catch (IOException | ParseException e) {
            throw new ConfigException("bad value for " + ConfigKeys.JWT_JWKS_FILE.name() + ": " + file
                    + " is not a JWK set (" + e.getMessage() + ")");
        }
    }
}
