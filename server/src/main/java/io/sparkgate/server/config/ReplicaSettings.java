package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code sparkgate.replica.*} settings: how a server sharing its PostgreSQL database with others
 * holds its batches. Each live batch is held by one replica through a lease in the database, which
 * the holder renews for all its batches in one statement every {@code renewInterval}; a lease not
 * renewed for {@code leaseTtl} (by the database's clock) may be claimed by another replica, which looks
 * for such batches every {@code scanInterval}. So a dead replica's batches move within about
 * {@code leaseTtl + scanInterval}.
 *
 * @param id this replica's name in the database; unique among the servers on one database. Default:
 *           host name and process id, e.g. {@code node-1-4242}
 * @param leaseTtl how long a lease lasts without renewal
 * @param renewInterval how often a replica renews its leases; at most half of {@code leaseTtl}, so one
 *                      late renewal does not lose them
 * @param scanInterval how often a replica looks for batches nobody holds (new ones, or a dead replica's)
 */
public record ReplicaSettings(String id, Duration leaseTtl, Duration renewInterval, Duration scanInterval) {

    private static final List<ConfigKey<?>> KEYS = List.of(ConfigKeys.REPLICA_ID, ConfigKeys.REPLICA_LEASE_TTL,
            ConfigKeys.REPLICA_RENEW_INTERVAL, ConfigKeys.REPLICA_SCAN_INTERVAL);

    private static final Pattern VALID_ID = Pattern.compile("[A-Za-z0-9._:-]{1,255}");

    public ReplicaSettings {
        requireNonNull(id, "id");
        requireNonNull(leaseTtl, "leaseTtl");
        requireNonNull(renewInterval, "renewInterval");
        requireNonNull(scanInterval, "scanInterval");
        if (!VALID_ID.matcher(id).matches()) {
            throw new IllegalArgumentException(ConfigKeys.REPLICA_ID + " must be 1 to 255 letters, digits, '.', '_', ':' or '-', got '"
                    + id + "'");
        }
        if (leaseTtl.toMillis() < 1000) {
            throw new IllegalArgumentException(ConfigKeys.REPLICA_LEASE_TTL + " must be at least 1s, got " + leaseTtl);
        }
        if (renewInterval.isZero() || renewInterval.isNegative()
                || renewInterval.multipliedBy(2).compareTo(leaseTtl) > 0) {
            throw new IllegalArgumentException(ConfigKeys.REPLICA_RENEW_INTERVAL + " must be positive and at most half of "
                    + ConfigKeys.REPLICA_LEASE_TTL + " (" + leaseTtl.toMillis() + " ms), got " + renewInterval.toMillis() + " ms");
        }
        if (scanInterval.isZero() || scanInterval.isNegative()) {
            throw new IllegalArgumentException(ConfigKeys.REPLICA_SCAN_INTERVAL + " must be positive, got " + scanInterval);
        }
    }

    /** This host's name and process id; 15 s leases renewed every 5 s; a scan every second. */
    public static ReplicaSettings defaults() {
        return from(Map.of(), false);
    }

    /**
     * The section from the config's {@code sparkgate.*} values. Replicas share a PostgreSQL database:
     * setting any of these keys with the embedded H2 store is refused, since H2's file belongs to one
     * server.
     */
    static ReplicaSettings from(Map<String, String> values, boolean embeddedStore) {
        if (embeddedStore) {
            KEYS.stream().map(ConfigKey::name).filter(values::containsKey).sorted().findFirst().ifPresent(key -> {
                throw new ConfigLoader.ConfigException(key + " is set, but several servers (replicas) need a "
                        + "shared PostgreSQL database: set " + ConfigKeys.STORE_URL
                        + " = jdbc:postgresql://... (the embedded H2 database belongs to one server)");
            });
        }
        try {
            return new ReplicaSettings(
                    ConfigKeys.REPLICA_ID.find(values).orElseGet(ReplicaSettings::defaultId),
                    ConfigKeys.REPLICA_LEASE_TTL.get(values),
                    ConfigKeys.REPLICA_RENEW_INTERVAL.get(values),
                    ConfigKeys.REPLICA_SCAN_INTERVAL.get(values));
        } catch (IllegalArgumentException e) {
            throw new ConfigLoader.ConfigException("bad replica settings: " + e.getMessage());
        }
    }

    private static String defaultId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "replica";
        }
        String id = host.replaceAll("[^A-Za-z0-9._:-]", "-") + "-" + ProcessHandle.current().pid();
        return id.length() > 255 ? id.substring(id.length() - 255) : id;
    }
}
