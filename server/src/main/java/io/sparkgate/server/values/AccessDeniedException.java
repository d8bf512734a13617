package io.sparkgate.server.values;

/** The caller is known but may not do this (REST 403, gRPC PERMISSION_DENIED); the message names the rule. */
public final class AccessDeniedException extends DomainException {
    public AccessDeniedException(String message) {
        super(message);
    }
}
