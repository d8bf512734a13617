package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import io.sparkgate.server.config.AuthSettings;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * HTTP basic credentials against a users file of {@code user:bcrypt-hash} lines.
 *
 * <p>BCrypt is slow on purpose (a fraction of a second per check), so credentials that passed once are
 * remembered by their SHA-256 (never in clear) and later requests with them skip BCrypt; the file is
 * read only at start, so nothing needs invalidating. An unknown user costs one BCrypt check against a
 * dummy hash, like a wrong password: the time of a refusal says nothing about which users exist.
 */
final class PasswordCheck {

    /** Modular crypt format of BCrypt: $2a$/$2b$/$2y$, a two-digit cost, 22 chars salt + 31 chars hash. */
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}");
    private static final int MAX_REMEMBERED = 10_000;
    static final String INVALID = "invalid credentials";

    private final Map<String, String> hashes;
    private final String dummyHash;
    private final Map<String, String> verified = new ConcurrentHashMap<>();

    private PasswordCheck(Map<String, String> hashes) {
        this.hashes = hashes;
        // Same cost as the file's first hash, so an unknown user takes as long as a known one.
        int cost = Integer.parseInt(hashes.values().iterator().next().substring(4, 6));
        this.dummyHash = CredentialHashes.hashPassword(Long.toString(System.nanoTime()), Math.max(4, cost));
    }

    static PasswordCheck load(Path file) {
        Map<String, String> hashes = CredentialFile.read(ConfigKeys.USERS_FILE.name(), file,
                        h -> BCRYPT.matcher(h).matches(), "BCrypt hash", true).stream()
                .collect(Collectors.toUnmodifiableMap(CredentialFile.Entry::user, CredentialFile.Entry::hash));
        return new PasswordCheck(hashes);
    }

    /** The caller these credentials prove; blocks for a BCrypt check (call off the event loop). */
    Caller check(String user, String password) {
        String key = HexFormat.of().formatHex(CredentialHashes.sha256(user + '\0' + password));
        if (user.equals(verified.get(key))) {
            return Caller.of(user);
        }
        String hash = hashes.get(user);
        boolean ok = CredentialHashes.passwordMatches(password, hash != null ? hash : dummyHash) && hash != null;
        if (!ok) {
            throw new AuthenticationException(INVALID);
        }
        if (verified.size() >= MAX_REMEMBERED) {
            verified.clear();
        }
        verified.put(key, user);
        return Caller.of(user);
    }
}
