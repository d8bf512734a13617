package io.sparkgate.server.config;

import java.util.Map;
import java.util.Set;

/** The {@code sparkgate.submit.*} settings. */
public record SubmitSettings() {

    /** The keys of this section; {@link ConfigLoader} rejects other {@code sparkgate.*} keys. */
    static final Set<String> KEYS = Set.of();

    /** Livy keys that mean the same as one of {@link #KEYS}. */
    static final Map<String, String> LIVY_ALIASES = Map.of();

    /** Whether {@code key} (after Livy aliases) belongs to this section. */
    static boolean accepts(String key) {
        return KEYS.contains(key);
    }

    public static SubmitSettings defaults() {
        return new SubmitSettings();
    }

    /** The section from the config's {@code sparkgate.*} values; a bad value throws {@link ConfigLoader.ConfigException}. */
    static SubmitSettings from(Map<String, String> values) {
        return defaults();
    }
}
