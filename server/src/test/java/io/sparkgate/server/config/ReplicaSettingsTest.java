package io.sparkgate.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicaSettingsTest {

    private static final String POSTGRES = "jdbc:postgresql://db:5432/sparkgate";

    @Test
    void aServerOnPostgresqlIsAReplicaWithNothingToSet() {
        ReplicaSettings replicas = ConfigLoader.fromMap(Map.of(ConfigKeys.STORE_URL.name(), POSTGRES)).replicas();

        assertThat(replicas.id()).endsWith("-" + ProcessHandle.current().pid()).matches("[A-Za-z0-9._:-]+");
        assertThat(replicas.leaseTtl()).isEqualTo(Duration.ofSeconds(15));
        assertThat(replicas.renewInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(replicas.scanInterval()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void everyKeyMayBeSet() {
        ReplicaSettings replicas = ConfigLoader.fromMap(Map.of(ConfigKeys.STORE_URL.name(), POSTGRES,
                ConfigKeys.REPLICA_ID.name(), "node-a", ConfigKeys.REPLICA_LEASE_TTL.name(), "30s", ConfigKeys.REPLICA_RENEW_INTERVAL.name(), "10s",
                ConfigKeys.REPLICA_SCAN_INTERVAL.name(), "500ms")).replicas();

        assertThat(replicas).isEqualTo(new ReplicaSettings("node-a", Duration.ofSeconds(30), Duration.ofSeconds(10),
                Duration.ofMillis(500)));
    }

    @Test
    void replicaSettingsWithTheEmbeddedDatabaseAreRefusedSayingReplicasNeedPostgresql() {
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.REPLICA_LEASE_TTL.name(), "30s")))
                .isInstanceOf(ConfigLoader.ConfigException.class)
                .hasMessageContaining("sparkgate.replica.lease-ttl is set")
                .hasMessageContaining("need a shared PostgreSQL database")
                .hasMessageContaining("sparkgate.store.url");
    }

    @Test
    void aRenewalIntervalOverHalfTheLeaseIsRefusedNamingBothKeys() {
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.STORE_URL.name(), POSTGRES,
                ConfigKeys.REPLICA_LEASE_TTL.name(), "10s", ConfigKeys.REPLICA_RENEW_INTERVAL.name(), "6s")))
                .isInstanceOf(ConfigLoader.ConfigException.class)
                .hasMessageContaining("sparkgate.replica.renew-interval must be positive and at most half of "
                        + "sparkgate.replica.lease-ttl");
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.STORE_URL.name(), POSTGRES,
                ConfigKeys.REPLICA_ID.name(), "node a")))
                .hasMessageContaining("sparkgate.replica.id must be 1 to 255 letters");
    }
}
