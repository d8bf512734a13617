package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code sparkgate.submit.*} settings: what a request may ask to run (local directories, remote
 * schemes, conf keys, forced values, sizes), plus the request-size limit and Livy's CSRF mode.
 *
 * @param localDirs directories local files must lie in (after resolving symlinks); empty: no local files
 * @param remoteSchemes URI schemes (lowercase) a request may name besides local files
 * @param deniedConf Spark conf keys a request may not set; an entry ending in {@code *} is a prefix
 * @param allowedConf when not empty, the only conf keys a request may set (same {@code *} rule)
 * @param forcedConf values the operator sets for every batch; a request may not set them otherwise
 * @param maxRequestSize largest request body in bytes (413 / RESOURCE_EXHAUSTED beyond it)
 * @param maxArgs most application arguments
 * @param maxConfEntries most {@code conf} entries
 * @param maxListEntries most entries in each of {@code jars}, {@code pyFiles}, {@code files}, {@code archives}
 * @param maxStringLength longest name, path, conf key or conf value
 * @param maxArgLength longest application argument
 * @param csrfProtection whether non-GET HTTP requests need an {@code X-Requested-By} header (Livy's CSRF mode)
 */
public record SubmitSettings(
        List<Path> localDirs,
        Set<String> remoteSchemes,
        List<String> deniedConf,
        List<String> allowedConf,
        Map<String, String> forcedConf,
        long maxRequestSize,
        int maxArgs,
        int maxConfEntries,
        int maxListEntries,
        int maxStringLength,
        int maxArgLength,
        boolean csrfProtection) {

    public static final String LOCAL_DIRS = "sparkgate.submit.local-dirs";
    public static final String REMOTE_SCHEMES = "sparkgate.submit.remote-schemes";
    public static final String DENIED_CONF = "sparkgate.submit.denied-conf";
    public static final String ALLOWED_CONF = "sparkgate.submit.allowed-conf";
    /** Prefix of operator-forced Spark properties, e.g. {@code sparkgate.submit.forced-conf.spark.eventLog.enabled}. */
    public static final String FORCED_CONF_PREFIX = "sparkgate.submit.forced-conf.";
    public static final String MAX_REQUEST_SIZE = "sparkgate.server.max-request-size";
    public static final String MAX_ARGS = "sparkgate.submit.max-args";
    public static final String MAX_CONF_ENTRIES = "sparkgate.submit.max-conf-entries";
    public static final String MAX_LIST_ENTRIES = "sparkgate.submit.max-list-entries";
    public static final String MAX_STRING_LENGTH = "sparkgate.submit.max-string-length";
    public static final String MAX_ARG_LENGTH = "sparkgate.submit.max-arg-length";
    public static final String CSRF_PROTECTION = "sparkgate.csrf-protection";

    /** System property the launcher script sets to the project directory; default local dir is its examples. */
    public static final String HOME_PROPERTY = "sparkgate.home";

    /** The keys of this section; {@link ConfigLoader} rejects other {@code sparkgate.*} keys. */
    static final Set<String> KEYS = Set.of(LOCAL_DIRS, REMOTE_SCHEMES, DENIED_CONF, ALLOWED_CONF,
            MAX_REQUEST_SIZE, MAX_ARGS, MAX_CONF_ENTRIES, MAX_LIST_ENTRIES, MAX_STRING_LENGTH, MAX_ARG_LENGTH,
            CSRF_PROTECTION);

    /** Livy keys that mean the same as one of {@link #KEYS}. */
    static final Map<String, String> LIVY_ALIASES = Map.of(
            "livy.file.local-dir-whitelist", LOCAL_DIRS,
            "livy.server.csrf-protection.enabled", CSRF_PROTECTION);

    /**
     * Remote schemes allowed by default: the cluster file systems and HTTPS. Off: {@code http} and
     * {@code ftp} (code fetched in clear text can be swapped on the way), {@code ivy} (resolves
     * arbitrary artifacts), and everything else (legacy or non-TLS connectors such as {@code s3},
     * {@code wasb}, {@code abfs}, {@code webhdfs}) until an operator says otherwise.
     */
    static final List<String> DEFAULT_REMOTE_SCHEMES = List.of("hdfs", "s3a", "gs", "abfss", "https");

    /**
     * Conf keys a request may not set by default; the reason for each is in
     * {@code conf/sparkgate.conf.template} and README.md ("What may be submitted").
     */
    static final List<String> DEFAULT_DENIED_CONF = List.of(
            // Where the batch runs is the server's decision.
            "spark.master", "spark.submit.deployMode",
            // Spark's own runtime on YARN: the operator's jars, not the user's.
            "spark.yarn.jars", "spark.yarn.archive",
            // Arbitrary local files on the driver's (in local mode: the server's) class and library path.
            "spark.driver.extraClassPath", "spark.executor.extraClassPath",
            "spark.driver.extraLibraryPath", "spark.executor.extraLibraryPath",
            // JVM options of the driver: -javaagent:, -XX:OnOutOfMemoryError=<command>, ... run on the server.
            "spark.driver.extraJavaOptions", "spark.driver.defaultJavaOptions",
            // The server's Kerberos identity.
            "spark.kerberos.keytab", "spark.kerberos.principal", "spark.yarn.keytab", "spark.yarn.principal",
            // Programs the driver starts: any executable on the server.
            "spark.pyspark.python", "spark.pyspark.driver.python", "spark.r.command", "spark.r.driver.command",
            // Where Spark writes on the server's disk.
            "spark.jars.ivy", "spark.local.dir", "spark.eventLog.dir", "spark.driver.log.localDir",
            // A JVM class path in a string (Hive metastore jars), metrics sinks writing files.
            "spark.sql.hive.metastore.jars", "spark.metrics.conf*");

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]?)b?");

    public SubmitSettings {
        localDirs = List.copyOf(requireNonNull(localDirs, "localDirs"));
        remoteSchemes = Set.copyOf(requireNonNull(remoteSchemes, "remoteSchemes"));
        deniedConf = List.copyOf(requireNonNull(deniedConf, "deniedConf"));
        allowedConf = List.copyOf(requireNonNull(allowedConf, "allowedConf"));
        forcedConf = Map.copyOf(requireNonNull(forcedConf, "forcedConf"));
        atLeast(MAX_REQUEST_SIZE, maxRequestSize, 1);
        atLeast(MAX_ARGS, maxArgs, 0);
        atLeast(MAX_CONF_ENTRIES, maxConfEntries, 0);
        atLeast(MAX_LIST_ENTRIES, maxListEntries, 0);
        atLeast(MAX_STRING_LENGTH, maxStringLength, 1);
        atLeast(MAX_ARG_LENGTH, maxArgLength, 1);
        for (String key : forcedConf.keySet()) {
            if (key.equals("spark.master") || key.equals("spark.submit.deployMode")) {
                throw new ConfigLoader.ConfigException(FORCED_CONF_PREFIX + key
                        + ": where batches run is set with sparkgate.spark.master");
            }
        }
    }

    /** Whether {@code key} (after Livy aliases) belongs to this section. */
    static boolean accepts(String key) {
        return KEYS.contains(key) || (key.startsWith(FORCED_CONF_PREFIX) && key.length() > FORCED_CONF_PREFIX.length());
    }

    public static SubmitSettings defaults() {
        return from(Map.of());
    }

    /** The default allowed directory: {@code ${sparkgate.home}/examples}, {@code ./examples} without it. */
    public static Path defaultLocalDir() {
        return Path.of(System.getProperty(HOME_PROPERTY, "."), "examples").toAbsolutePath().normalize();
    }

    /** The section from the config's {@code sparkgate.*} values; a bad value throws {@link ConfigLoader.ConfigException}. */
    static SubmitSettings from(Map<String, String> values) {
        List<Path> localDirs = values.containsKey(LOCAL_DIRS)
                ? ConfigLoader.parseList(values.get(LOCAL_DIRS)).stream().map(d -> Path.of(d).toAbsolutePath().normalize()).toList()
                : List.of(defaultLocalDir());
        Set<String> schemes = new LinkedHashSet<>();
        for (String s : values.containsKey(REMOTE_SCHEMES) ? ConfigLoader.parseList(values.get(REMOTE_SCHEMES)) : DEFAULT_REMOTE_SCHEMES) {
            String scheme = s.toLowerCase(Locale.ROOT);
            if (scheme.equals("file") || scheme.equals("local")) {
                throw new ConfigLoader.ConfigException(REMOTE_SCHEMES + ": '" + s
                        + "' is not remote; local files are allowed by " + LOCAL_DIRS);
            }
            schemes.add(scheme);
        }
        Map<String, String> forced = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(FORCED_CONF_PREFIX) && k.length() > FORCED_CONF_PREFIX.length()) {
                forced.put(k.substring(FORCED_CONF_PREFIX.length()), v);
            }
        });
        return new SubmitSettings(
                localDirs,
                schemes,
                values.containsKey(DENIED_CONF) ? ConfigLoader.parseList(values.get(DENIED_CONF)) : DEFAULT_DENIED_CONF,
                ConfigLoader.parseList(values.getOrDefault(ALLOWED_CONF, "")),
                forced,
                parseSize(MAX_REQUEST_SIZE, values.getOrDefault(MAX_REQUEST_SIZE, "1m")),
                ConfigLoader.parseInt(MAX_ARGS, values.getOrDefault(MAX_ARGS, "1000")),
                ConfigLoader.parseInt(MAX_CONF_ENTRIES, values.getOrDefault(MAX_CONF_ENTRIES, "200")),
                ConfigLoader.parseInt(MAX_LIST_ENTRIES, values.getOrDefault(MAX_LIST_ENTRIES, "100")),
                ConfigLoader.parseInt(MAX_STRING_LENGTH, values.getOrDefault(MAX_STRING_LENGTH, "4096")),
                ConfigLoader.parseInt(MAX_ARG_LENGTH, values.getOrDefault(MAX_ARG_LENGTH, "65536")),
                ConfigLoader.parseBoolean(CSRF_PROTECTION, values.getOrDefault(CSRF_PROTECTION, "false")));
    }

    /** The same settings with {@code dirs} as the allowed local directories; for tests and embedding. */
    public SubmitSettings withLocalDirs(List<Path> dirs) {
        return new SubmitSettings(dirs, remoteSchemes, deniedConf, allowedConf, forcedConf, maxRequestSize, maxArgs,
                maxConfEntries, maxListEntries, maxStringLength, maxArgLength, csrfProtection);
    }

    /** Sizes as Spark and Livy write them: {@code 1m}, {@code 512k}, {@code 10mb}; bytes without a unit. */
    static long parseSize(String key, String value) {
        Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new ConfigLoader.ConfigException("bad value for " + key + ": '" + value + "' is not a size like 1m or 512k");
        }
        int shift = switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        try {
            long n = Long.parseLong(m.group(1));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new ConfigLoader.ConfigException("bad value for " + key + ": '" + value + "' is too large");
        }
    }

    private static void atLeast(String key, long value, long min) {
        if (value < min) {
            throw new ConfigLoader.ConfigException("bad value for " + key + ": must be >= " + min + ", got " + value);
        }
    }
}
