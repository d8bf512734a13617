package io.sparkgate.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/jvm-defaults.sh gives each JDK only the options it knows: a JVM refuses to start on an unknown
 * {@code -XX} option, so an operator on an older Java 17 must not find the server dead at start.
 */
class JvmDefaultsTest {

    private static final Path DEFAULTS = Path.of("src/main/bin/jvm-defaults.sh").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void aJdkThatTrimsTheNativeHeapIsAskedToOnceASecond() throws Exception {
        assertThat(defaultsFor("17.0.9")).contains("-XX:TrimNativeHeapInterval=1000");
        assertThat(defaultsFor("21.0.1")).contains("-XX:TrimNativeHeapInterval=1000");
        assertThat(defaultsFor("25")).contains("-XX:TrimNativeHeapInterval=1000");
    }

    @Test
    void aJdkWithoutTheOptionStartsWithoutIt() throws Exception {
        for (String version : List.of("17.0.8", "20.0.2", "21")) {
            assertThat(defaultsFor(version)).as(version)
                    .contains("-XX:+UseG1GC", "-Xmx1g")
                    .noneMatch(o -> o.startsWith("-XX:TrimNativeHeapInterval"));
        }
    }

    @Test
    void theJavaOfThisMachineStartsWithEveryDefault() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new java.util.ArrayList<>(List.of(java.toString()));
        cmd.addAll(defaults(java));
        cmd.add("-version");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    /** The defaults for a JDK whose release file names {@code version} (its java a stand-in). */
    private List<String> defaultsFor(String version) throws Exception {
        Path home = Files.createDirectories(dir.resolve(version));
        Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        return defaults(java);
    }

    private static List<String> defaults(Path java) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "JAVA=$2; . \"$1\" && printf '%s\\n' \"${SPARKGATE_JVM_DEFAULTS[@]}\"",
                "jvm-defaults", DEFAULTS.toString(), java.toString()).redirectErrorStream(true);
        pb.environment().remove("SPARKGATE_JAVA_OPTS");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().toList();
    }
}
