package io.sparkgate.server.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wrapper hands the application the environment a direct spark-submit would get: the malloc arena
 * cap that {@code jvm-defaults.sh} gives the server is taken off again, a user's own is kept. The Spark
 * home's spark-submit here prints its environment.
 */
class SubmitWrapperTest {

    @Test
    void theServersOwnMallocArenaCapDoesNotReachTheApplication(@TempDir Path dir) throws Exception {
        List<String> env = runWrapper(dir, Map.of("MALLOC_ARENA_MAX", "2", "SPARKGATE_MALLOC_ARENA_MAX", "2"));

        assertThat(env).noneMatch(l -> l.startsWith("MALLOC_ARENA_MAX="))
                .noneMatch(l -> l.startsWith("SPARKGATE_MALLOC_ARENA_MAX="))
                .anyMatch(l -> l.startsWith("SPARK_HOME="));
    }

    @Test
    void aUsersOwnMallocArenaCapReachesTheApplication(@TempDir Path dir) throws Exception {
        List<String> env = runWrapper(dir, Map.of("MALLOC_ARENA_MAX", "4"));

        assertThat(env).contains("MALLOC_ARENA_MAX=4");
    }

    private static List<String> runWrapper(Path dir, Map<String, String> extraEnv) throws Exception {
        Path home = Files.createDirectories(dir.resolve("spark-home/bin"));
        Path submit = home.resolve("spark-submit");
        Files.writeString(submit, "#!/usr/bin/env bash\nenv\n");
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
        SubmitWrapper wrapper = SubmitWrapper.install(dir.resolve("data"));
        Path batchDir = dir.resolve("batch");
        Path output = dir.resolve("output");

        ProcessBuilder pb = new ProcessBuilder(wrapper.home().resolve("bin/spark-submit").toString())
                .redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().remove("MALLOC_ARENA_MAX");
        pb.environment().remove("SPARKGATE_MALLOC_ARENA_MAX");
        pb.environment().putAll(SubmitWrapper.environment(dir.resolve("spark-home")));
        pb.environment().put("SPARKGATE_BATCH_DIR", batchDir.toString());
        pb.environment().putAll(extraEnv);
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(Files.readString(batchDir.resolve("exit-code")).trim()).isEqualTo("0");
        return Files.readAllLines(output);
    }
}
