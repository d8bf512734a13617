package io.sparkgate.server;

import io.sparkgate.server.security.CredentialHashes;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Makes the lines of the credential files: reads a secret from the terminal (not echoed) or the first
 * line of stdin, and prints {@code user:hash}.
 */
@Command(name = "hash-password", mixinStandardHelpOptions = true,
        description = {"Reads a password (or, with --token, a bearer token) from stdin and prints a line for",
                "sparkgate.auth.basic.users-file (user:BCrypt hash) or sparkgate.auth.bearer.tokens-file",
                "(user:SHA-256 hex). Example: ./sparkgate hash-password --user alice >> conf/users"})
final class HashPassword implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--user", required = true, description = "The user name the line is for.")
    String user;

    @Option(names = "--token", description = "Hash a static bearer token (SHA-256) instead of a password (BCrypt).")
    boolean token;

    @Option(names = "--cost", description = "BCrypt cost, 4..31 (default ${DEFAULT-VALUE}).")
    int cost = CredentialHashes.BCRYPT_COST;

    @Override
    public Integer call() throws IOException {
        if (user.isBlank() || user.contains(":") || user.chars().anyMatch(c -> Character.isWhitespace(c)
                || Character.isISOControl(c))) {
            spec.commandLine().getErr().println("sparkgate: a user name has no ':', spaces or control characters");
            return 2;
        }
        String secret = readSecret();
        if (secret == null || secret.isEmpty()) {
            spec.commandLine().getErr().println("sparkgate: no " + (token ? "token" : "password") + " on stdin");
            return 2;
        }
        try {
            String hash = token ? CredentialHashes.hashToken(secret) : CredentialHashes.hashPassword(secret, cost);
            spec.commandLine().getOut().println(user + ":" + hash);
            spec.commandLine().getOut().flush();
            return 0;
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("sparkgate: " + e.getMessage());
            return 2;
        }
    }

    private String readSecret() throws IOException {
        Console console = System.console();
        if (console != null) {
            char[] chars = console.readPassword(token ? "Token: " : "Password: ");
            return chars == null ? null : new String(chars);
        }
        // Not the terminal: the first line of stdin, e.g. from a pipe or a secret store.
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        return in.readLine();
    }
}
