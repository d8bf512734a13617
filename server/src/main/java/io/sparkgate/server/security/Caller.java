package io.sparkgate.server.security;

import static java.util.Objects.requireNonNull;

/**
 * Who made a request: the user an authenticator vouched for, or nobody ({@link #ANONYMOUS}) when
 * authentication is off.
 *
 * @param user the authenticated user name; empty for the anonymous caller
 */
public record Caller(String user) {

    /** The caller of a server without authentication (mode {@code none}). */
    public static final Caller ANONYMOUS = new Caller("");

    public Caller {
        requireNonNull(user, "user");
    }

    public static Caller of(String user) {
        if (requireNonNull(user, "user").isEmpty()) {
            throw new IllegalArgumentException("an authenticated user has a name");
        }
        return new Caller(user);
    }

    public boolean isAnonymous() {
        return user.isEmpty();
    }

    @Override
    public String toString() {
        return isAnonymous() ? "anonymous" : user;
    }
}
