package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigLoader.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A file of {@code user:hash} lines ({@code #} comments and blank lines allowed), read once at start.
 * Errors name the key and the line number, never the line (it holds a hash).
 */
final class CredentialFile {

    private CredentialFile() {}

    /** One line: a user and a hash. */
    record Entry(String user, String hash) {}

    /**
     * The lines in file order; every hash satisfies {@code validHash}. With {@code uniqueUsers}, a user
     * named twice is an error (a password file); otherwise a user may have several (tokens, for rotation).
     */
    static List<Entry> read(String key, Path file, Predicate<String> validHash, String hashName,
                            boolean uniqueUsers) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("bad value for " + key + ": cannot read " + file + " (" + e.getMessage() + ")");
        }
        List<Entry> entries = new ArrayList<>();
        Set<String> users = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            String where = key + " (" + file + ") line " + (i + 1);
            if (colon <= 0) {
                throw new ConfigException(where + ": expected user:" + hashName);
            }
            String user = line.substring(0, colon).strip();
            String hash = line.substring(colon + 1).strip();
            if (user.isEmpty() || user.chars().anyMatch(c -> Character.isISOControl(c) || Character.isWhitespace(c))) {
                throw new ConfigException(where + ": a user name has no spaces or control characters");
            }
            if (!validHash.test(hash)) {
                throw new ConfigException(where + ": '" + user + "' has no valid " + hashName
                        + " (make one with ./sparkgate hash-password)");
            }
            entries.add(new Entry(user, hash));
            if (!users.add(user) && uniqueUsers) {
                throw new ConfigException(where + ": '" + user + "' appears twice");
            }
        }
        if (entries.isEmpty()) {
            throw new ConfigException("bad value for " + key + ": " + file + " names no user");
        }
        return entries;
    }
}
