package io.sparkgate.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/**
 * The version and commit this server was built from, written into the jar by the build
 * ({@code build.properties}, see server/pom.xml); {@code unknown} for a build without git.
 */
public record BuildInfo(String version, String commit) {

    private static final BuildInfo CURRENT = load();

    public static BuildInfo current() {
        return CURRENT;
    }

    private static BuildInfo load() {
        Properties props = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new BuildInfo(known(props.getProperty("version")), known(props.getProperty("commit")));
    }

    private static String known(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value.trim();
    }

    /** {@code sparkgate --version}. */
    public static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            BuildInfo info = current();
            return new String[] {"sparkgate " + info.version() + " (commit " + info.commit() + ")"};
        }
    }
}
