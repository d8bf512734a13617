package io.sparkgate.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the one {@link SparkgateConfig} from, in rising precedence: built-in defaults, the config file
 * ({@code java.util.Properties} syntax, as {@code livy.conf} and {@code spark-defaults.conf}),
 * {@code SPARKGATE_*} environment variables and command-line flags.
 *
 * <p>Unknown {@code sparkgate.*} keys and bad values stop the server with a message that names them:
 * a typo in a config file should never be silently ignored.
 */
public final class ConfigLoader {

    public static final String HOST = "sparkgate.server.host";
    public static final String PORT = "sparkgate.server.port";
    public static final String DATA_DIR = "sparkgate.data-dir";
    public static final String SPARK_HOME = "sparkgate.spark.home";
    public static final String SPARK_MASTER = "sparkgate.spark.master";
    public static final String KILL_GRACE_PERIOD = "sparkgate.kill.grace-period";
    public static final String STORE_URL = "sparkgate.store.url";
    public static final String STORE_USER = "sparkgate.store.user";
    public static final String STORE_PASSWORD = "sparkgate.store.password";
    public static final String RETENTION = "sparkgate.retention";
    public static final String TIMEOUT_NOT_STARTED = "sparkgate.timeout.not-started";
    public static final String TIMEOUT_STARTING = "sparkgate.timeout.starting";
    public static final String TIMEOUT_RUNNING = "sparkgate.timeout.running";
    public static final String YARN_CONF_DIR = "sparkgate.yarn.conf-dir";
    public static final String YARN_POLL_INTERVAL = "sparkgate.yarn.poll-interval";
    public static final String YARN_APP_LOOKUP_TIMEOUT = "sparkgate.yarn.app-lookup-timeout";
    /** The server's Kerberos principal on a kerberized cluster (Livy: {@code livy.server.launch.kerberos.principal}). */
    public static final String YARN_PRINCIPAL = "sparkgate.yarn.principal";
    /** The keytab of {@link #YARN_PRINCIPAL} (Livy: {@code livy.server.launch.kerberos.keytab}). */
    public static final String YARN_KEYTAB = "sparkgate.yarn.keytab";
    /** Prefix of Hadoop properties for YARN, e.g. {@code sparkgate.hadoop-conf.yarn.resourcemanager.address}. */
    public static final String HADOOP_CONF_PREFIX = "sparkgate.hadoop-conf.";
    /** Prefix of Spark properties applied to every batch, e.g. {@code sparkgate.spark-conf.spark.ui.enabled}. */
    public static final String SPARK_CONF_PREFIX = "sparkgate.spark-conf.";

    /** System property the launcher script sets to the Spark home assembled by the build. */
    public static final String EMBEDDED_SPARK_HOME_PROPERTY = "sparkgate.embedded.spark-home";

    private static final Set<String> KEYS = Set.of(HOST, PORT, DATA_DIR, SPARK_HOME, SPARK_MASTER,
            KILL_GRACE_PERIOD, STORE_URL, STORE_USER, STORE_PASSWORD,
            RETENTION, TIMEOUT_NOT_STARTED, TIMEOUT_STARTING, TIMEOUT_RUNNING, YARN_CONF_DIR, YARN_POLL_INTERVAL,
            YARN_APP_LOOKUP_TIMEOUT, YARN_PRINCIPAL, YARN_KEYTAB);

    /** Livy keys a Livy user's file may bring; they mean the same as their Sparkgate key. */
    private static final Map<String, String> LIVY_ALIASES = livyAliases(Map.of(
            "livy.server.host", HOST,
            "livy.server.port", PORT,
            "livy.spark.master", SPARK_MASTER,
            "livy.server.yarn.poll-interval", YARN_POLL_INTERVAL,
            "livy.server.yarn.app-lookup-timeout", YARN_APP_LOOKUP_TIMEOUT,
            "livy.server.launch.kerberos.principal", YARN_PRINCIPAL,
            "livy.server.launch.kerberos.keytab", YARN_KEYTAB));

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|min|h|d)?");

    private ConfigLoader() {}

    /**
     * Loads the configuration.
     *
     * @param file the config file; read when present, an error when given explicitly but missing
     * @param fileRequired whether a missing file is an error (the user named it) or fine (the default path)
     * @param env the environment, normally {@code System.getenv()}
     * @param flags settings from the command line, as config keys
     */
    public static SparkgateConfig load(Path file, boolean fileRequired, Map<String, String> env,
                                       Map<String, String> flags) {
        return explain(file, fileRequired, env, flags).config();
    }

    /** Where a configured value came from. */
    public enum Source { FILE, ENVIRONMENT, FLAG }

    /**
     * One key as given: its value, where from, and the name it was given under (a Livy alias, an
     * environment variable), when that differs from {@code key}.
     */
    public record Given(String key, String value, Source source, String givenAs) {}

    /** A validated configuration and every key that was set, in precedence order resolved (the last one wins). */
    public record Explanation(SparkgateConfig config, List<Given> given) {}

    /**
     * Like {@link #load}, and also says which keys were set where (for {@code sparkgate check-config});
     * keys not listed have their defaults.
     */
    public static Explanation explain(Path file, boolean fileRequired, Map<String, String> env,
                                      Map<String, String> flags) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, Given> given = new TreeMap<>();
        if (Files.isRegularFile(file)) {
            readFile(file).forEach((k, v) -> {
                values.put(k, v);
                String key = LIVY_ALIASES.getOrDefault(k, k);
                given.put(key, new Given(key, v, Source.FILE, k.equals(key) ? file.toString() : file + ", as " + k));
            });
        } else if (fileRequired) {
            throw new ConfigException("config file not found: " + file);
        }
        for (String key : allKeys()) {
            String value = env.get(envName(key));
            if (value != null) {
                values.put(key, value);
                given.put(key, new Given(key, value, Source.ENVIRONMENT, envName(key)));
            }
        }
        values.putAll(flags);
        flags.forEach((k, v) -> given.put(k, new Given(k, v, Source.FLAG, "")));
        return new Explanation(build(values, env), List.copyOf(given.values()));
    }

    /** Every plain key the server knows (not the {@code spark-conf.} / {@code hadoop-conf.} prefixes), sorted. */
    public static Set<String> knownKeys() {
        return java.util.Collections.unmodifiableSet(allKeys());
    }

    /** The config built from defaults and the given keys alone; for tests and embedding. */
    public static SparkgateConfig fromMap(Map<String, String> values) {
        return build(new LinkedHashMap<>(values), Map.of());
    }

    private static Map<String, String> readFile(Path file) {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            props.load(reader);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Map<String, String> values = new TreeMap<>();
        props.stringPropertyNames().forEach(k -> values.put(k, props.getProperty(k).trim()));
        return values;
    }

    /** The environment variable of a key: {@code sparkgate.data-dir} → {@code SPARKGATE_DATA_DIR}. */
    public static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static SparkgateConfig build(Map<String, String> raw, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sparkConf = new TreeMap<>();
        Map<String, String> hadoopConf = new TreeMap<>();
        for (Map.Entry<String, String> e : raw.entrySet()) {
            String key = LIVY_ALIASES.getOrDefault(e.getKey(), e.getKey());
            if (key.startsWith(SPARK_CONF_PREFIX)) {
                sparkConf.put(key.substring(SPARK_CONF_PREFIX.length()), e.getValue());
            } else if (key.startsWith(HADOOP_CONF_PREFIX)) {
                hadoopConf.put(key.substring(HADOOP_CONF_PREFIX.length()), e.getValue());
            } else if (KEYS.contains(key) || inSection(key)) {
                values.put(key, e.getValue());
            } else if (key.startsWith("sparkgate.")) {
                throw new ConfigException("unknown configuration key '" + e.getKey() + "'");
            }
            // Other keys (livy.* we do not use, comments of other tools) are ignored on purpose, so a
            // Livy user can bring a whole livy.conf.
        }
        Path sparkHome = Optional.ofNullable(values.get(SPARK_HOME))
                .or(() -> Optional.ofNullable(env.get("SPARK_HOME")))
                .or(() -> Optional.ofNullable(System.getProperty(EMBEDDED_SPARK_HOME_PROPERTY)))
                .map(Path::of)
                .orElse(Path.of("spark-dist", "target", "spark-home"));
        Optional<Path> yarnConfDir = Optional.ofNullable(values.get(YARN_CONF_DIR))
                .or(() -> Optional.ofNullable(env.get("HADOOP_CONF_DIR")))
                .or(() -> Optional.ofNullable(env.get("YARN_CONF_DIR")))
                .filter(dir -> !dir.isBlank())
                .map(dir -> Path.of(dir).toAbsolutePath().normalize());
        try {
            return new SparkgateConfig(
                    values.getOrDefault(HOST, "127.0.0.1"),
                    parseInt(PORT, values.getOrDefault(PORT, "8998")),
                    Path.of(values.getOrDefault(DATA_DIR, "data")),
                    sparkHome.toAbsolutePath().normalize(),
                    values.getOrDefault(SPARK_MASTER, "local[*]"),
                    parseDuration(KILL_GRACE_PERIOD, values.getOrDefault(KILL_GRACE_PERIOD, "10s")),
                    sparkConf,
                    durability(values),
                    new YarnSettings(
                            yarnConfDir,
                            hadoopConf,
                            parseDuration(YARN_POLL_INTERVAL, values.getOrDefault(YARN_POLL_INTERVAL, "1s")),
                            parseDuration(YARN_APP_LOOKUP_TIMEOUT,
                                    values.getOrDefault(YARN_APP_LOOKUP_TIMEOUT, "120s")),
                            yarnLogin(values)),
                    AuthSettings.from(values),
                    AccessSettings.from(values),
                    SubmitSettings.from(values),
                    AdmissionSettings.from(values),
                    OpsSettings.from(values),
                    ReplicaSettings.from(values, values.getOrDefault(STORE_URL, "").isEmpty()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** Whether a key belongs to one of the sections that parse themselves (auth, access, submit, admission). */
    private static boolean inSection(String key) {
        return AuthSettings.accepts(key) || AccessSettings.accepts(key) || SubmitSettings.accepts(key)
                || AdmissionSettings.accepts(key) || OpsSettings.accepts(key) || ReplicaSettings.accepts(key);
    }

    /** Every plain key, for environment overrides. */
    private static Set<String> allKeys() {
        Set<String> all = new java.util.TreeSet<>(KEYS);
        all.addAll(AuthSettings.KEYS);
        all.addAll(AccessSettings.KEYS);
        all.addAll(SubmitSettings.KEYS);
        all.addAll(AdmissionSettings.KEYS);
        all.addAll(OpsSettings.KEYS);
        all.addAll(ReplicaSettings.KEYS);
        return all;
    }

    private static Map<String, String> livyAliases(Map<String, String> base) {
        Map<String, String> all = new java.util.HashMap<>(base);
        all.putAll(AuthSettings.LIVY_ALIASES);
        all.putAll(AccessSettings.LIVY_ALIASES);
        all.putAll(SubmitSettings.LIVY_ALIASES);
        all.putAll(AdmissionSettings.LIVY_ALIASES);
        all.putAll(OpsSettings.LIVY_ALIASES);
        return Map.copyOf(all);
    }

    /** The server's principal and keytab: both or neither; the keytab must be readable. */
    private static Optional<YarnSettings.KerberosLogin> yarnLogin(Map<String, String> values) {
        String principal = values.getOrDefault(YARN_PRINCIPAL, "").strip();
        String keytab = values.getOrDefault(YARN_KEYTAB, "").strip();
        if (principal.isEmpty() && keytab.isEmpty()) {
            return Optional.empty();
        }
        if (principal.isEmpty() || keytab.isEmpty()) {
            throw new ConfigException(YARN_PRINCIPAL + " and " + YARN_KEYTAB + " go together; "
                    + (principal.isEmpty() ? YARN_PRINCIPAL : YARN_KEYTAB) + " is not set");
        }
        Path file = Path.of(keytab).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException("bad value for " + YARN_KEYTAB + ": " + file + " is not a readable file");
        }
        return Optional.of(new YarnSettings.KerberosLogin(principal, file));
    }

    private static DurabilityConfig durability(Map<String, String> values) {
        DurabilityConfig d = DurabilityConfig.defaults();
        return new DurabilityConfig(
                values.getOrDefault(STORE_URL, d.storeUrl()),
                values.getOrDefault(STORE_USER, d.storeUser()),
                values.getOrDefault(STORE_PASSWORD, d.storePassword()),
                durationOr(values, RETENTION, d.retention()),
                durationOr(values, TIMEOUT_NOT_STARTED, d.notStartedTimeout()),
                durationOr(values, TIMEOUT_STARTING, d.startingTimeout()),
                durationOr(values, TIMEOUT_RUNNING, d.runningTimeout()));
    }

    private static Duration durationOr(Map<String, String> values, String key, Duration fallback) {
        String value = values.get(key);
        return value == null ? fallback : parseDuration(key, value);
    }

    /** {@code true/yes/on} or {@code false/no/off}, as Livy's and Spark's files write them. */
    static boolean parseBoolean(String key, String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigException("bad value for " + key + ": '" + value + "' is not true or false");
        };
    }

    /** A comma-separated list, entries trimmed, empty entries dropped. */
    static java.util.List<String> parseList(String value) {
        return java.util.Arrays.stream(value.split(","))
                .map(String::trim)
                .filter(entry -> !entry.isEmpty())
                .toList();
    }

    static int parseInt(String key, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException("bad value for " + key + ": '" + value + "' is not a number");
        }
    }

    /** Durations as Spark and Livy write them: {@code 600s}, {@code 1h}, {@code 250ms}; seconds without a unit. */
    static Duration parseDuration(String key, String value) {
        Matcher m = DURATION.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new ConfigException("bad value for " + key + ": '" + value + "' is not a duration like 30s or 1h");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m", "min" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> throw new IllegalStateException(unit);
        };
    }


    /** A configuration that cannot be used; its message names the key and the value. */
    public static final class ConfigException extends RuntimeException {
        public ConfigException(String message) {
            super(message);
        }
    }
}
