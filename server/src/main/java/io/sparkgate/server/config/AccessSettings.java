package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What an authenticated caller may do beyond their own batches ({@code sparkgate.access.*}). Livy's
 * access-control lists map onto these keys (see {@link #LIVY_ALIASES}).
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

    public static final String IMPERSONATION = "sparkgate.access.impersonation";
    public static final String SUPERUSERS = "sparkgate.access.superusers";
    public static final String ALLOWED_USERS = "sparkgate.access.allowed-users";
    public static final String VIEW_USERS = "sparkgate.access.view-users";
    public static final String MODIFY_USERS = "sparkgate.access.modify-users";
    public static final String OTHERS_BATCHES = "sparkgate.access.others-batches";

    /** Every user: the value of {@link #ALLOWED_USERS} that lets everyone authenticated in. */
    public static final String EVERYONE = "*";

    /** How batches a caller may not read appear to them. */
    public enum OthersBatches {
        /** In lists and GET /batches/{id} with their state but without their log lines (Livy's behaviour). */
        LISTED,
        /** Not at all: left out of lists, and 404 like a batch that does not exist. */
        HIDDEN
    }

    static final Set<String> KEYS = Set.of(IMPERSONATION, SUPERUSERS, ALLOWED_USERS, VIEW_USERS, MODIFY_USERS,
            OTHERS_BATCHES);

    static final Map<String, String> LIVY_ALIASES = Map.of(
            "livy.impersonation.enabled", IMPERSONATION,
            "livy.superusers", SUPERUSERS,
            "livy.server.access-control.allowed-users", ALLOWED_USERS,
            "livy.server.access-control.view-users", VIEW_USERS,
            "livy.server.access-control.modify-users", MODIFY_USERS);

    public AccessSettings {
        superusers = Set.copyOf(requireNonNull(superusers, "superusers"));
        allowedUsers = Set.copyOf(requireNonNull(allowedUsers, "allowedUsers"));
        viewUsers = Set.copyOf(requireNonNull(viewUsers, "viewUsers"));
        modifyUsers = Set.copyOf(requireNonNull(modifyUsers, "modifyUsers"));
        requireNonNull(othersBatches, "othersBatches");
    }

    static boolean accepts(String key) {
        return KEYS.contains(key);
    }

    /** No impersonation, no superusers, everyone authenticated allowed, others' batches listed without logs. */
    public static AccessSettings defaults() {
        return new AccessSettings(false, Set.of(), Set.of(EVERYONE), Set.of(), Set.of(), OthersBatches.LISTED);
    }

    static AccessSettings from(Map<String, String> values) {
        AccessSettings d = defaults();
        return new AccessSettings(
                values.containsKey(IMPERSONATION) ? ConfigLoader.parseBoolean(IMPERSONATION, values.get(IMPERSONATION)) : d.impersonation(),
                users(values, SUPERUSERS, d.superusers()),
                users(values, ALLOWED_USERS, d.allowedUsers()),
                users(values, VIEW_USERS, d.viewUsers()),
                users(values, MODIFY_USERS, d.modifyUsers()),
                values.containsKey(OTHERS_BATCHES) ? othersBatches(values.get(OTHERS_BATCHES)) : d.othersBatches());
    }

    private static Set<String> users(Map<String, String> values, String key, Set<String> fallback) {
        String value = values.get(key);
        if (value == null) {
            return fallback;
        }
        return Set.copyOf(ConfigLoader.parseList(value));
    }

    private static OthersBatches othersBatches(String value) {
        try {
            return OthersBatches.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigLoader.ConfigException("bad value for " + OTHERS_BATCHES + ": '" + value
                    + "' is not listed or hidden");
        }
    }
}
