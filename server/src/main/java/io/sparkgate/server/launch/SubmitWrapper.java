package io.sparkgate.server.launch;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * Sparkgate's {@code spark-submit} wrapper, installed in the data directory: it records the pid and the
 * exit code of every local batch, then runs the Spark home's own {@code bin/spark-submit} unchanged. So
 * a user's own Spark distribution gets what the embedded one gets: the exit code decides the final
 * state, a restarted server re-attaches by pid, a delete kills the process tree.
 *
 * <p>SparkLauncher only ever runs {@code <spark home>/bin/spark-submit}, so the wrapper lives in a
 * directory laid out as a Spark home of its own ({@link #home()}), and the real one reaches it in
 * {@code SPARKGATE_SPARK_HOME} ({@link #environment}).
 */
public final class SubmitWrapper {

    private static final String RESOURCE = "spark-submit";

    private final Path home;

    private SubmitWrapper(Path home) {
        this.home = home;
    }

    /**
     * Writes the wrapper to {@code <dataDir>/launcher/bin/spark-submit}. Written beside and renamed into
     * place: bash reads a script while it runs, so the wrappers of batches still running from an earlier
     * server keep their own copy.
     */
    public static SubmitWrapper install(Path dataDir) {
        // Absolute: spark-submit runs it from the batch directory, where a relative data dir would not resolve.
        Path home = requireNonNull(dataDir, "dataDir").toAbsolutePath().resolve("launcher");
        Path bin = home.resolve("bin");
        try (InputStream script = SubmitWrapper.class.getResourceAsStream(RESOURCE)) {
            if (script == null) {
                throw new IllegalStateException("the spark-submit wrapper is missing from the server's classpath");
            }
            Files.createDirectories(bin);
            Path staged = Files.createTempFile(bin, ".spark-submit", ".new");
            Files.copy(script, staged, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(staged, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(staged, bin.resolve("spark-submit"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install the spark-submit wrapper in " + bin, e);
        }
        return new SubmitWrapper(home);
    }

    /** The directory to give SparkLauncher as its Spark home: it holds only {@code bin/spark-submit}. */
    public Path home() {
        return home;
    }

    /**
     * What the wrapper needs in its environment besides the batch directory (which the one submit command,
     * {@link SparkSubmitCommand}, sets for every launch): the real Spark home, absolute, because
     * spark-submit runs in the batch directory.
     */
    public static Map<String, String> environment(Path sparkHome) {
        return Map.of("SPARKGATE_SPARK_HOME", sparkHome.toAbsolutePath().toString());
    }
}
