package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.ConfigLoader.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One configuration key, declared once in {@link ConfigKeys}: its name, how its value is read, its
 * default, the other names it is accepted under (Livy's, or an old one of ours), and one line of doc.
 * Settings records read their values through it, the loader knows the valid keys and environment
 * names from it, and {@code ConfigDocsTest} checks {@code conf/sparkgate.conf.template} and README's
 * tables against it, so a key cannot be documented one way and read another.
 *
 * <p>Immutable; the {@code with*} methods return a new declaration.
 *
 * @param <T> the type of the key's value
 */
public final class ConfigKey<T> {

    /** Reads a key's text into a value; a bad value throws a {@link ConfigException} naming the key. */
    @FunctionalInterface
    public interface Type<T> {
        T parse(String key, String value);

        Type<String> STRING = (key, value) -> value.trim();
        Type<Integer> INT = ConfigLoader::parseInt;
        Type<Boolean> BOOLEAN = ConfigLoader::parseBoolean;
        Type<Duration> DURATION = ConfigLoader::parseDuration;
        Type<Long> SIZE = ConfigLoader::parseSize;
        Type<List<String>> LIST = (key, value) -> ConfigLoader.parseList(value);
        Type<Path> PATH = (key, value) -> Path.of(value.trim());
    }

    private final String name;
    private final Type<T> type;
    private final String doc;
    private final boolean prefix;
    /** For a prefix, what the rest of the name is, e.g. {@code spark.key}; empty for a plain key. */
    private final String placeholder;
    private final Optional<String> defaultValue;
    private final String defaultDoc;
    private final Optional<String> livyName;
    private final Optional<String> oldName;

    private ConfigKey(String name, Type<T> type, String doc, String placeholder, Optional<String> defaultValue,
                      String defaultDoc, Optional<String> livyName, Optional<String> oldName) {
        this.name = requireNonNull(name, "name");
        this.type = requireNonNull(type, "type");
        this.doc = requireNonNull(doc, "doc");
        this.placeholder = requireNonNull(placeholder, "placeholder");
        this.prefix = !placeholder.isEmpty();
        this.defaultValue = requireNonNull(defaultValue, "defaultValue");
        this.defaultDoc = requireNonNull(defaultDoc, "defaultDoc");
        this.livyName = requireNonNull(livyName, "livyName");
        this.oldName = requireNonNull(oldName, "oldName");
        if (!name.startsWith("sparkgate.")) {
            throw new IllegalArgumentException("a Sparkgate key starts with sparkgate.: " + name);
        }
    }

    /** A key {@code name} of type {@code type}, without a default until {@link #withDefault} gives one. */
    public static <T> ConfigKey<T> of(String name, Type<T> type, String doc) {
        return new ConfigKey<>(name, type, doc, "", Optional.empty(), "", Optional.empty(), Optional.empty());
    }

    /**
     * A family of keys: every key that starts with {@code prefix} (which ends with a dot) sets the entry
     * named by the rest, e.g. {@code sparkgate.spark-conf.spark.ui.enabled}.
     */
    public static ConfigKey<Map<String, String>> prefix(String prefix, String placeholder, String doc) {
        if (!prefix.endsWith(".")) {
            throw new IllegalArgumentException("a prefix ends with a dot: " + prefix);
        }
        return new ConfigKey<>(prefix, (key, value) -> Map.of(), doc, placeholder, Optional.empty(), "–",
                Optional.empty(), Optional.empty());
    }

    /** How the docs name the key: its name, or for a prefix {@code prefix<placeholder>}. */
    public String displayName() {
        return prefix ? name + "<" + placeholder + ">" : name;
    }

    /** The value when the key is not set; also what the docs show as the default. */
    public ConfigKey<T> withDefault(String value) {
        return new ConfigKey<>(name, type, doc, placeholder, Optional.of(value),
                value.isEmpty() ? "empty" : "`" + value + "`", livyName, oldName);
    }

    /** The default as the docs show it, when plain {@code `value`} says too little (e.g. "{@code `0`} (none)"). */
    public ConfigKey<T> describedAs(String description) {
        return new ConfigKey<>(name, type, doc, placeholder, defaultValue, description, livyName, oldName);
    }

    /**
     * The default as the docs describe it (Markdown), when it is worked out at start (e.g. "{@code $SPARK_HOME},
     * else the embedded Spark home"); the settings record computes it when {@link #find} is empty.
     */
    public ConfigKey<T> withComputedDefault(String description) {
        return new ConfigKey<>(name, type, doc, placeholder, Optional.empty(), description, livyName, oldName);
    }

    /** Livy's name for the same setting, accepted in a Livy user's file; the Sparkgate name wins when both are set. */
    public ConfigKey<T> withLivyName(String livy) {
        return new ConfigKey<>(name, type, doc, placeholder, defaultValue, defaultDoc, Optional.of(livy), oldName);
    }

    /** An earlier Sparkgate name, still accepted; setting both names to different values is an error. */
    public ConfigKey<T> withOldName(String old) {
        return new ConfigKey<>(name, type, doc, placeholder, defaultValue, defaultDoc, livyName, Optional.of(old));
    }

    public String name() {
        return name;
    }

    public String doc() {
        return doc;
    }

    public boolean isPrefix() {
        return prefix;
    }

    /** The default's text, when it is a fixed value. */
    public Optional<String> defaultValue() {
        return defaultValue;
    }

    /** The default as the docs show it. */
    public String defaultDoc() {
        return defaultDoc;
    }

    public Optional<String> livyName() {
        return livyName;
    }

    public Optional<String> oldName() {
        return oldName;
    }

    /** The value set in {@code values} (keys by their Sparkgate names), if any. */
    public Optional<T> find(Map<String, String> values) {
        if (prefix) {
            throw new IllegalStateException(name + " is a prefix: use entries()");
        }
        String value = values.get(name);
        return value == null ? Optional.empty() : Optional.of(type.parse(name, value));
    }

    /** The value set in {@code values}, or the default. */
    public T get(Map<String, String> values) {
        return find(values).orElseGet(() -> type.parse(name, defaultValue.orElseThrow(
                () -> new IllegalStateException(name + " has no fixed default: use find()"))));
    }

    /** For a prefix: the entries it sets, by the rest of their names. */
    public Map<String, String> entries(Map<String, String> values) {
        if (!prefix) {
            throw new IllegalStateException(name + " is no prefix");
        }
        Map<String, String> entries = new TreeMap<>();
        values.forEach((k, v) -> {
            if (matches(k)) {
                entries.put(k.substring(name.length()), v);
            }
        });
        return entries;
    }

    /** Whether {@code key} (a Sparkgate name) is this key, or one of its family for a prefix. */
    boolean matches(String key) {
        return prefix ? key.startsWith(name) && key.length() > name.length() : key.equals(name);
    }

    @Override
    public String toString() {
        return name;
    }
}
