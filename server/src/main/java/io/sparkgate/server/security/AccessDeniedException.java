package io.sparkgate.server.security;

/** The caller is known but may not do this (REST 403, gRPC PERMISSION_DENIED); the message names the rule. */
public final class AccessDeniedException extends RuntimeException {
    public AccessDeniedException(String message) {
        super(message);
    }
}
