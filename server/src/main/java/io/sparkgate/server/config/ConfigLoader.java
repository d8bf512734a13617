package io.sparkgate.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the one {@link SparkgateConfig} from, in rising precedence: built-in defaults, the config file
 * ({@code java.util.Properties} syntax, as {@code livy.conf} and {@code spark-defaults.conf}),
 * {@code SPARKGATE_*} environment variables and command-line flags.
 *
 * <p>Unknown {@code sparkgate.*} keys and bad values stop the server with a message that names them:
 * a typo in a config file should never be silently ignored.
 *
 * <p>Over 300 lines because it also parses the value types every key uses (sizes, durations, lists,
 * booleans as Livy and Spark write them) and explains where each value came from (check-config).
 */
public final class ConfigLoader {

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|min|h|d)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]?)b?");

    private ConfigLoader() {}

    /**
     * Loads the configuration.
     *
     * @param file the config file; read when present, an error when given explicitly but missing
     * @param fileRequired whether a missing file is an error (the user named it) or fine (the default path)
     * @param env the environment, normally {@code System.getenv()}
     * @param flags settings from the command line, as config keys
     * @param installation where the server is installed, for the defaults that depend on it
     */
    public static SparkgateConfig load(Path file, boolean fileRequired, Map<String, String> env,
                                       Map<String, String> flags, Installation installation) {
        return explain(file, fileRequired, env, flags, installation).config();
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
                                      Map<String, String> flags, Installation installation) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, Given> given = new TreeMap<>();
        if (Files.isRegularFile(file)) {
            readFile(file).forEach((k, v) -> {
                values.put(k, v);
                String key = sparkgateName(k);
                given.put(key, new Given(key, v, Source.FILE, k.equals(key) ? file.toString() : file + ", as " + k));
            });
        } else if (fileRequired) {
            throw new ConfigException("config file not found: " + file);
        }
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            for (String name : envNamed(key)) {
                String value = env.get(envName(name));
                if (value != null) {
                    values.put(name, value);
                    given.put(name, new Given(name, value, Source.ENVIRONMENT, envName(name)));
                }
            }
        }
        values.putAll(flags);
        flags.forEach((k, v) -> given.put(k, new Given(k, v, Source.FLAG, "")));
        return new Explanation(build(values, env, installation), List.copyOf(given.values()));
    }

    /** {@link #load(Path, boolean, Map, Map, Installation)} for a server not installed anywhere in particular. */
    public static SparkgateConfig load(Path file, boolean fileRequired, Map<String, String> env,
                                       Map<String, String> flags) {
        return load(file, fileRequired, env, flags, Installation.workingDirectory());
    }

    /** Every plain key the server knows (not the {@code spark-conf.} / {@code hadoop-conf.} prefixes), sorted. */
    public static Set<String> knownKeys() {
        Set<String> names = new TreeSet<>();
        ConfigKeys.ALL.stream().filter(k -> !k.isPrefix()).forEach(k -> names.add(k.name()));
        return Collections.unmodifiableSet(names);
    }

    /** The config built from defaults and the given keys alone; for tests and embedding. */
    public static SparkgateConfig fromMap(Map<String, String> values) {
        return build(new LinkedHashMap<>(values), Map.of(), Installation.workingDirectory());
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

    /** The Sparkgate name of a key given under its Livy name or old name; any other name as it is. */
    private static String sparkgateName(String given) {
        return ConfigKeys.ALL.stream()
                .filter(k -> k.livyName().filter(given::equals).isPresent() || k.oldName().filter(given::equals).isPresent())
                .map(ConfigKey::name)
                .findFirst()
                .orElse(given);
    }

    /** The environment variable of a key: {@code sparkgate.data-dir} → {@code SPARKGATE_DATA_DIR}. */
    public static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The names of a plain key that environment variables may set: its own and its old one. */
    private static List<String> envNamed(ConfigKey<?> key) {
        if (key.isPrefix()) {
            return List.of();
        }
        List<String> names = new ArrayList<>(List.of(key.name()));
        key.oldName().ifPresent(names::add);
        return names;
    }

    /**
     * The given values by their Sparkgate names: Livy names taken when the Sparkgate name is not set,
     * old names when they agree with the new one; an unknown {@code sparkgate.*} key is an error. Other
     * keys (livy.* we do not use, comments of other tools) are ignored on purpose, so a Livy user can
     * bring a whole livy.conf.
     */
    static Map<String, String> canonical(Map<String, String> raw) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : raw.entrySet()) {
            if (e.getKey().startsWith("sparkgate.")) {
                ConfigKey<?> key = ConfigKeys.ALL.stream()
                        .filter(k -> k.matches(e.getKey()) || k.oldName().filter(e.getKey()::equals).isPresent())
                        .findFirst()
                        .orElseThrow(() -> new ConfigException("unknown configuration key '" + e.getKey() + "'"));
                if (!key.matches(e.getKey())) {
                    continue; // an old name: below
                }
                values.put(e.getKey(), e.getValue());
            }
        }
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            key.livyName().map(raw::get).ifPresent(v -> values.putIfAbsent(key.name(), v));
            key.oldName().ifPresent(old -> {
                String oldValue = raw.get(old);
                if (oldValue == null) {
                    return;
                }
                String current = values.putIfAbsent(key.name(), oldValue);
                if (current != null && !current.trim().equals(oldValue.trim())) {
                    throw new ConfigException(key.name() + " = " + current.trim() + " and its old name " + old
                            + " = " + oldValue.trim() + " disagree: set only " + key.name());
                }
            });
        }
        return values;
    }

    private static SparkgateConfig build(Map<String, String> raw, Map<String, String> env,
                                         Installation installation) {
        Map<String, String> values = canonical(raw);
        Path sparkHome = ConfigKeys.SPARK_HOME.find(values)
                .or(() -> Optional.ofNullable(env.get("SPARK_HOME")).map(Path::of))
                .or(installation::embeddedSparkHome)
                .orElse(Path.of("spark-dist", "target", "spark-home"));
        Optional<Path> yarnConfDir = Optional.ofNullable(values.get(ConfigKeys.YARN_CONF_DIR.name()))
                .or(() -> Optional.ofNullable(env.get("HADOOP_CONF_DIR")))
                .or(() -> Optional.ofNullable(env.get("YARN_CONF_DIR")))
                .filter(dir -> !dir.isBlank())
                .map(dir -> Path.of(dir).toAbsolutePath().normalize());
        try {
            return new SparkgateConfig(
                    ConfigKeys.HOST.get(values),
                    ConfigKeys.PORT.get(values),
                    ConfigKeys.DATA_DIR.get(values),
                    installation.home(),
                    ConfigKeys.MAX_REQUEST_SIZE.get(values),
                    ConfigKeys.CSRF_PROTECTION.get(values),
                    sparkHome.toAbsolutePath().normalize(),
                    ConfigKeys.SPARK_MASTER.get(values),
                    ConfigKeys.KILL_GRACE_PERIOD.get(values),
                    ConfigKeys.SPARK_CONF.entries(values),
                    StoreSettings.from(values),
                    DeadlineSettings.from(values),
                    new YarnSettings(
                            yarnConfDir,
                            ConfigKeys.HADOOP_CONF.entries(values),
                            ConfigKeys.YARN_POLL_INTERVAL.get(values),
                            ConfigKeys.YARN_APP_LOOKUP_TIMEOUT.get(values),
                            yarnLogin(values)),
                    AuthSettings.from(values),
                    AccessSettings.from(values),
                    SubmitSettings.from(values, installation),
                    AdmissionSettings.from(values),
                    OpsSettings.from(values),
                    ReplicaSettings.from(values, ConfigKeys.STORE_URL.get(values).isEmpty()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** The server's principal and keytab: both or neither; the keytab must be readable. */
    private static Optional<YarnSettings.KerberosLogin> yarnLogin(Map<String, String> values) {
        String principal = ConfigKeys.YARN_PRINCIPAL.find(values).orElse("");
        String keytab = ConfigKeys.YARN_KEYTAB.find(values).orElse("");
        if (principal.isEmpty() && keytab.isEmpty()) {
            return Optional.empty();
        }
        if (principal.isEmpty() || keytab.isEmpty()) {
            throw new ConfigException(ConfigKeys.YARN_PRINCIPAL + " and " + ConfigKeys.YARN_KEYTAB + " go together; "
                    + (principal.isEmpty() ? ConfigKeys.YARN_PRINCIPAL : ConfigKeys.YARN_KEYTAB) + " is not set");
        }
        Path file = Path.of(keytab).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException("bad value for " + ConfigKeys.YARN_KEYTAB + ": " + file
                    + " is not a readable file");
        }
        return Optional.of(new YarnSettings.KerberosLogin(principal, file));
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
    static List<String> parseList(String value) {
        return Arrays.stream(value.split(","))
                .map(String::trim)
                .filter(entry -> !entry.isEmpty())
                .toList();
    }

    /** Sizes as Spark and Livy write them: {@code 1m}, {@code 512k}, {@code 10mb}; bytes without a unit. */
    static long parseSize(String key, String value) {
        Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new ConfigException("bad value for " + key + ": '" + value + "' is not a size like 1m or 512k");
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
            throw new ConfigException("bad value for " + key + ": '" + value + "' is too large");
        }
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
