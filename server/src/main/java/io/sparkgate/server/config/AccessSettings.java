package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What an authenticated caller may do beyond their own batches ({@code sparkgate.access.*}). Livy's
 * access-control lists map onto these keys (see {@link ConfigKeys}).
 *
 * @param impersonation whether a request may name a {@code proxyUser} (its own user, or any user for a superuser)
 * @param superusers may impersonate anyone, and read and delete every batch
 * @param allowedUsers who may use the server at all; {@code *} is everyone authenticated
 * @param viewUsers may read every batch's log and streams
 * @param modifyUsers may read and delete every batch
 * @param othersBatches how a caller sees batches they may not read
 */
public record AccessSettings(
        boolean impersonation,
        Set<String> superusers,
        Set<String> allowedUsers,
        Set<String> viewUsers,
        Set<String> modifyUsers,
        OthersBatches othersBatches) {

    /** Every user: the value of {@code sparkgate.access.allowed-users} that lets everyone authenticated in. */
    public static final String EVERYONE = "*";

    /** How batches a caller may not read appear to them. */
    public enum OthersBatches {
        /** In lists and GET /batches/{id} with their state but without their log lines (Livy's behaviour). */
        LISTED,
        /** Not at all: left out of lists, and 404 like a batch that does not exist. */
        HIDDEN
    }

    public AccessSettings {
        superusers = Set.copyOf(requireNonNull(superusers, "superusers"));
        allowedUsers = Set.copyOf(requireNonNull(allowedUsers, "allowedUsers"));
        viewUsers = Set.copyOf(requireNonNull(viewUsers, "viewUsers"));
        modifyUsers = Set.copyOf(requireNonNull(modifyUsers, "modifyUsers"));
        requireNonNull(othersBatches, "othersBatches");
    }

    /** No impersonation, no superusers, everyone authenticated allowed, others' batches listed without logs. */
    public static AccessSettings defaults() {
        return from(Map.of());
    }

    static AccessSettings from(Map<String, String> values) {
        return new AccessSettings(
                ConfigKeys.IMPERSONATION.get(values),
                Set.copyOf(ConfigKeys.SUPERUSERS.get(values)),
                Set.copyOf(ConfigKeys.ALLOWED_USERS.get(values)),
                Set.copyOf(ConfigKeys.VIEW_USERS.get(values)),
                Set.copyOf(ConfigKeys.MODIFY_USERS.get(values)),
                othersBatches(ConfigKeys.OTHERS_BATCHES.get(values)));
    }

    private static OthersBatches othersBatches(String value) {
        try {
            return OthersBatches.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigLoader.ConfigException("bad value for " + ConfigKeys.OTHERS_BATCHES + ": '" + value
                    + "' is not listed or hidden");
        }
    }
}
