package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The {@code sparkgate.submit.*} settings: what a request may ask to run (local directories, remote
 * schemes, conf keys, forced values, sizes). The keys, their defaults and the reason for each denied
 * conf key are in {@link ConfigKeys}.
 *
 * @param localDirs directories local files must lie in (after resolving symlinks); empty: no local files
 * @param remoteSchemes URI schemes (lowercase) a request may name besides local files
 * @param deniedConf Spark conf keys a request may not set; an entry ending in {@code *} is a prefix
 * @param allowedConf when not empty, the only conf keys a request may set (same {@code *} rule)
 * @param forcedConf values the operator sets for every batch; a request may not set them otherwise
 * @param maxArgs most application arguments
 * @param maxConfEntries most {@code conf} entries
 * @param maxListEntries most entries in each of {@code jars}, {@code pyFiles}, {@code files}, {@code archives}
 * @param maxStringLength longest name, path, conf key or conf value
 * @param maxArgLength longest application argument
 */
public record SubmitSettings(
        List<Path> localDirs,
        Set<String> remoteSchemes,
        List<String> deniedConf,
        List<String> allowedConf,
        Map<String, String> forcedConf,
        int maxArgs,
        int maxConfEntries,
        int maxListEntries,
        int maxStringLength,
        int maxArgLength) {

    /** Set by the server for every batch: a request may not move a batch elsewhere, nor may a forced value. */
    public static final Set<String> SERVER_OWNED_CONF = Set.of("spark.master", "spark.submit.deployMode");

    public SubmitSettings {
        localDirs = List.copyOf(requireNonNull(localDirs, "localDirs"));
        remoteSchemes = Set.copyOf(requireNonNull(remoteSchemes, "remoteSchemes"));
        deniedConf = List.copyOf(requireNonNull(deniedConf, "deniedConf"));
        allowedConf = List.copyOf(requireNonNull(allowedConf, "allowedConf"));
        forcedConf = Map.copyOf(requireNonNull(forcedConf, "forcedConf"));
        atLeast(ConfigKeys.MAX_ARGS, maxArgs, 0);
        atLeast(ConfigKeys.MAX_CONF_ENTRIES, maxConfEntries, 0);
        atLeast(ConfigKeys.MAX_LIST_ENTRIES, maxListEntries, 0);
        atLeast(ConfigKeys.MAX_STRING_LENGTH, maxStringLength, 1);
        atLeast(ConfigKeys.MAX_ARG_LENGTH, maxArgLength, 1);
        for (String key : forcedConf.keySet()) {
            if (SERVER_OWNED_CONF.contains(key)) {
                throw new ConfigLoader.ConfigException(ConfigKeys.FORCED_CONF.name() + key
                        + ": where batches run is set with sparkgate.spark.master");
            }
        }
    }

    /** The defaults, for a server installed in the working directory. */
    public static SubmitSettings defaults() {
        return from(Map.of(), Installation.workingDirectory());
    }

    /** The section from the config's {@code sparkgate.*} values; a bad value throws {@link ConfigLoader.ConfigException}. */
    static SubmitSettings from(Map<String, String> values, Installation installation) {
        List<Path> localDirs = ConfigKeys.LOCAL_DIRS.find(values)
                .map(dirs -> dirs.stream().map(d -> Path.of(d).toAbsolutePath().normalize()).toList())
                .orElse(List.of(installation.examplesDir()));
        Set<String> schemes = new LinkedHashSet<>();
        for (String s : ConfigKeys.REMOTE_SCHEMES.get(values)) {
            String scheme = s.toLowerCase(Locale.ROOT);
            if (scheme.equals("file") || scheme.equals("local")) {
                throw new ConfigLoader.ConfigException(ConfigKeys.REMOTE_SCHEMES + ": '" + s
                        + "' is not remote; local files are allowed by " + ConfigKeys.LOCAL_DIRS);
            }
            schemes.add(scheme);
        }
        return new SubmitSettings(
                localDirs,
                schemes,
                ConfigKeys.DENIED_CONF.get(values),
                ConfigKeys.ALLOWED_CONF.get(values),
                ConfigKeys.FORCED_CONF.entries(values),
                ConfigKeys.MAX_ARGS.get(values),
                ConfigKeys.MAX_CONF_ENTRIES.get(values),
                ConfigKeys.MAX_LIST_ENTRIES.get(values),
                ConfigKeys.MAX_STRING_LENGTH.get(values),
                ConfigKeys.MAX_ARG_LENGTH.get(values));
    }

    /** The same settings with {@code dirs} as the allowed local directories; for tests and embedding. */
    public SubmitSettings withLocalDirs(List<Path> dirs) {
        return new SubmitSettings(dirs, remoteSchemes, deniedConf, allowedConf, forcedConf, maxArgs,
                maxConfEntries, maxListEntries, maxStringLength, maxArgLength);
    }

    private static void atLeast(ConfigKey<?> key, long value, long min) {
        if (value < min) {
            throw new ConfigLoader.ConfigException("bad value for " + key + ": must be >= " + min + ", got " + value);
        }
    }
}
