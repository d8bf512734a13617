package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where this server is installed, as the {@code sparkgate} script tells the JVM; the defaults that
 * depend on it (the allowed local directory, the embedded Spark home) are worked out by the config from
 * this record, so nothing reads system properties behind the configuration's back.
 *
 * @param home the project directory ({@code sparkgate.home}); its {@code examples/} is the default local dir
 * @param embeddedSparkHome the Spark home the build assembled ({@code sparkgate.embedded.spark-home}), if any
 */
public record Installation(Path home, Optional<Path> embeddedSparkHome) {

    /** System property the launcher script sets to the project directory. */
    public static final String HOME_PROPERTY = "sparkgate.home";
    /** System property the launcher script sets to the Spark home assembled by the build. */
    public static final String EMBEDDED_SPARK_HOME_PROPERTY = "sparkgate.embedded.spark-home";

    public Installation {
        home = requireNonNull(home, "home").toAbsolutePath().normalize();
        requireNonNull(embeddedSparkHome, "embeddedSparkHome");
    }

    /** What the script said; read once, by {@code Main}. */
    public static Installation fromSystemProperties() {
        return new Installation(Path.of(System.getProperty(HOME_PROPERTY, ".")),
                Optional.ofNullable(System.getProperty(EMBEDDED_SPARK_HOME_PROPERTY)).map(Path::of));
    }

    /** Not installed anywhere in particular: the working directory, no embedded Spark home. */
    public static Installation workingDirectory() {
        return new Installation(Path.of("."), Optional.empty());
    }

    /** The directory local files may come from by default. */
    public Path examplesDir() {
        return home.resolve("examples");
    }
}
