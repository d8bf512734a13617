package io.sparkgate.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void fileThenEnvironmentThenFlagsWithLivyAliasesAndSparkConf() throws Exception {
        Path file = dir.resolve("sparkgate.conf");
        Files.writeString(file, """
                # a Livy user's file
                livy.server.port = 9000
                livy.server.session.timeout = 1h
                sparkgate.spark.master = local[2]
                sparkgate.kill.grace-period = 2m
                sparkgate.spark-conf.spark.ui.enabled = false
                """);

        SparkgateConfig config = ConfigLoader.load(file, true,
                Map.of("SPARKGATE_SPARK_MASTER", "local[3]", "SPARKGATE_DATA_DIR", "/tmp/x", "PATH", "/bin"),
                Map.of(ConfigKeys.DATA_DIR.name(), "/tmp/flag"));

        assertThat(config.port()).isEqualTo(9000);
        assertThat(config.sparkMaster()).isEqualTo("local[3]");
        assertThat(config.dataDir()).isEqualTo(Path.of("/tmp/flag"));
        assertThat(config.killGracePeriod()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.sparkConf()).containsEntry("spark.ui.enabled", "false");
        assertThat(config.host()).isEqualTo("127.0.0.1");
    }

    @Test
    void unknownKeysAndBadValuesStopWithAMessageNamingThem() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of("sparkgate.server.prot", "1")))
                .hasMessageContaining("sparkgate.server.prot");
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.PORT.name(), "eighty")))
                .hasMessageContaining(ConfigKeys.PORT.name()).hasMessageContaining("eighty");
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.KILL_GRACE_PERIOD.name(), "soon")))
                .hasMessageContaining(ConfigKeys.KILL_GRACE_PERIOD.name());
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.PORT.name(), "70000")))
                .hasMessageContaining("70000");
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.conf"), true, Map.of(), Map.of()))
                .hasMessageContaining("missing.conf");
    }

    @Test
    void durationsAsSparkWritesThem() {
        assertThat(ConfigLoader.parseDuration("k", "600s")).isEqualTo(Duration.ofSeconds(600));
        assertThat(ConfigLoader.parseDuration("k", "250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(ConfigLoader.parseDuration("k", "1h")).isEqualTo(Duration.ofHours(1));
        assertThat(ConfigLoader.parseDuration("k", "7d")).isEqualTo(Duration.ofDays(7));
        assertThat(ConfigLoader.parseDuration("k", "30")).isEqualTo(Duration.ofSeconds(30));
    }
}
