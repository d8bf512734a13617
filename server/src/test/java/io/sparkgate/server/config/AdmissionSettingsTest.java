package io.sparkgate.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdmissionSettingsTest {

    @TempDir
    Path dir;

    @Test
    void defaultsStartTwoAtOnceLetAHundredWaitAndLimitNoRunningBatches() {
        AdmissionSettings admission = ConfigLoader.fromMap(Map.of()).admission();
        assertThat(admission).isEqualTo(new AdmissionSettings(2, 0, 0, 0, 100, Duration.ofSeconds(5)));
    }

    @Test
    void everyKeyFromTheFileAndTheEnvironment() throws Exception {
        Path file = dir.resolve("sparkgate.conf");
        Files.writeString(file, """
                sparkgate.admission.max-starting = 3
                sparkgate.admission.max-starting-per-user = 1
                sparkgate.admission.max-running = 8
                sparkgate.admission.max-waiting = 50
                sparkgate.admission.retry-after = 1m
                """);
        AdmissionSettings admission = ConfigLoader.load(file, true,
                Map.of("SPARKGATE_ADMISSION_MAX_RUNNING_PER_USER", "2"), Map.of()).admission();
        assertThat(admission).isEqualTo(new AdmissionSettings(3, 1, 8, 2, 50, Duration.ofMinutes(1)));
    }

    @Test
    void theOldLaunchKeysStillWork() throws Exception {
        Path file = dir.resolve("sparkgate.conf");
        Files.writeString(file, """
                sparkgate.launch.threads = 4
                """);
        AdmissionSettings admission = ConfigLoader.load(file, true,
                Map.of("SPARKGATE_LAUNCH_QUEUE_SIZE", "250"), Map.of()).admission();
        assertThat(admission.maxStarting()).isEqualTo(4);
        assertThat(admission.maxWaiting()).isEqualTo(250);
        assertThat(ConfigLoader.fromMap(Map.of(ConfigKeys.MAX_STARTING.name(), "4",
                ConfigKeys.MAX_STARTING.oldName().orElseThrow(), "4")).admission().maxStarting()).isEqualTo(4);
    }

    @Test
    void badValuesAndDisagreeingOldAndNewNamesStopWithAMessageNamingThem() {
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.MAX_STARTING.name(), "3",
                ConfigKeys.MAX_STARTING.oldName().orElseThrow(), "5")))
                .hasMessageContaining(ConfigKeys.MAX_STARTING.name()).hasMessageContaining(ConfigKeys.MAX_STARTING.oldName().orElseThrow());
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.MAX_STARTING.name(), "0")))
                .hasMessageContaining(ConfigKeys.MAX_STARTING.name());
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.MAX_RUNNING_PER_USER.name(), "-1")))
                .hasMessageContaining(ConfigKeys.MAX_RUNNING_PER_USER.name());
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.MAX_WAITING.name(), "many")))
                .hasMessageContaining(ConfigKeys.MAX_WAITING.name()).hasMessageContaining("many");
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.RETRY_AFTER.name(), "0s")))
                .hasMessageContaining(ConfigKeys.RETRY_AFTER.name());
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of("sparkgate.admission.max-runing", "1")))
                .hasMessageContaining("sparkgate.admission.max-runing");
    }
}
