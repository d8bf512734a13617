package io.sparkgate.server.security;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The hashes in the credential files: BCrypt (salted, slow) for passwords, SHA-256 for static bearer
 * tokens. Tokens are long random strings, so a fast hash is enough to keep the file from being a list of
 * usable tokens; passwords are chosen by people, so they need a slow salted hash.
 */
public final class CredentialHashes {

    /** BCrypt's cost: 2^12 rounds, about 0.2 s on one core of a current machine. */
    public static final int BCRYPT_COST = 12;

    private static final SecureRandom RANDOM = new SecureRandom();

    private CredentialHashes() {}

    /** A BCrypt hash of {@code password} with a fresh salt, for a users file line. */
    public static String hashPassword(String password, int cost) {
        requireNonNull(password, "password");
        if (password.getBytes(StandardCharsets.UTF_8).length > 72) {
            throw new IllegalArgumentException("BCrypt uses at most 72 bytes of a password; choose a shorter one");
        }
        return BCrypt.hashpw(password, BCrypt.gensalt("$2b", cost, RANDOM));
    }

    /** Whether {@code password} matches a BCrypt {@code hash}; compares in constant time. */
    static boolean passwordMatches(String password, String hash) {
        try {
            return BCrypt.checkpw(password, hash);
        } catch (IllegalArgumentException e) {
            return false; // longer than BCrypt takes, or a hash it cannot read
        }
    }

    /** The lowercase hex SHA-256 of {@code token}, for a tokens file line. */
    public static String hashToken(String token) {
        return HexFormat.of().formatHex(sha256(requireNonNull(token, "token")));
    }

    static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }
}
