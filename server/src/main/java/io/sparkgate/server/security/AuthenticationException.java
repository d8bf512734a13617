package io.sparkgate.server.security;

/**
 * The caller could not be authenticated (REST 401, gRPC UNAUTHENTICATED). The message is shown to the
 * caller, so it says nothing a guesser could use: the same text for an unknown user and a wrong password.
 */
public final class AuthenticationException extends RuntimeException {
    public AuthenticationException(String message) {
        super(message, null, false, false);
    }
}
