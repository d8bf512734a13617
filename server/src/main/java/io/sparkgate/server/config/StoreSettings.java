package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * The batch database ({@code sparkgate.store.*}).
 *
 * @param url JDBC URL of the batch database; empty for the embedded H2 file database in the data directory
 * @param user database user
 * @param password database password
 */
public record StoreSettings(String url, String user, String password) {

    public StoreSettings {
        requireNonNull(url, "url");
        requireNonNull(user, "user");
        requireNonNull(password, "password");
    }

    static StoreSettings from(Map<String, String> values) {
        return new StoreSettings(ConfigKeys.STORE_URL.get(values), ConfigKeys.STORE_USER.get(values),
                ConfigKeys.STORE_PASSWORD.get(values));
    }
}
