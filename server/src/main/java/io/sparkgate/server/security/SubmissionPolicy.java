package io.sparkgate.server.security;

import io.sparkgate.server.values.Text;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.server.config.SubmitSettings;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What a request may ask to run, checked before anything is recorded: every refusal is an
 * {@link InvalidBatchRequestException} (400 / INVALID_ARGUMENT) naming the field or key.
 *
 * <p>In order: sizes and characters of every value, the format of names, conf keys against the
 * operator's forced values, deny-list and allow-list, and last (the only checks that touch the disk)
 * local paths against the allowed directories. Paths are read the way Spark reads them
 * ({@code Utils.resolveURI}): {@code file:} and {@code local:} URIs by their decoded path, anything
 * without a scheme as a plain path, lists split at commas and trimmed.
 *
 * <p>Over 300 lines because it is the whole list of submission rules, the one validator of requests
 * (shape, formats, conf keys, paths), each rule with its one message: reading them together is the point.
 */
public final class SubmissionPolicy {

    /** The Spark property each request field sets; spark-submit lets the field win over the property. */
    private static final Map<String, String> FIELD_CONF = fieldConf();

    /** Spark properties that name local files spark-submit, the driver or (in local mode) executors read. */
    private static final Set<String> PATH_CONF = Set.of(
            "spark.jars", "spark.files", "spark.submit.pyFiles", "spark.archives",
            "spark.yarn.dist.jars", "spark.yarn.dist.files", "spark.yarn.dist.archives", "spark.yarn.dist.pyFiles",
            "spark.repl.local.jars", "spark.jars.ivySettings", "spark.jars.repositories",
            "spark.driver.resourcesFile", "spark.executor.resourcesFile",
            "spark.authenticate.secret.file", "spark.authenticate.secret.driver.file",
            "spark.authenticate.secret.executor.file", "spark.storage.replication.topologyFile",
            "spark.metrics.conf", "spark.sql.hive.metastore.jars.path",
            "spark.kerberos.keytab", "spark.yarn.keytab");
    /** Resource discovery scripts (run by the driver and executors) and TLS key/trust stores. */
    private static final Pattern PATH_CONF_PATTERN = Pattern.compile(
            "spark\\.(driver|executor|worker)\\.resource\\.[^.]+\\.discoveryScript"
            + "|spark\\.ssl(\\.[A-Za-z0-9]+)?\\.(keyStore|trustStore)");

    private static final Pattern JAVA_BINARY_NAME = Pattern.compile(
            "\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*(\\.\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*)*");
    /** Spark's byte-size syntax ({@code JavaUtils.byteStringAs}): whole numbers, an optional unit. */
    private static final Pattern MEMORY = Pattern.compile("[0-9]{1,15}([kmgtp]b?|b)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern QUEUE = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._@-]*\\$?");
    private static final Pattern CONF_KEY = Pattern.compile("[A-Za-z0-9._-]+");
    /** Hadoop's glob syntax, which spark-submit expands in local paths (and braces may hold {@code ../}). */
    private static final Pattern GLOB = Pattern.compile("[*?\\[\\]{}\\\\]");
    private static final int MAX_NAME_LENGTH = 255;
    /**
     * Main classes on Spark's own class path that submit applications themselves (SparkSubmit run as
     * "the application" would take its arguments as spark-submit options, unchecked).
     */
    private static final List<String> LAUNCHER_PACKAGES = List.of("org.apache.spark.deploy.", "org.apache.spark.launcher.");

    private final SubmitSettings settings;

    public SubmissionPolicy(SubmitSettings settings) {
        this.settings = requireNonNull(settings, "settings");
    }

    /**
     * The request as it will run: operator-forced values applied, relative local paths made absolute
     * (spark-submit runs in the batch's directory, not the server's).
     *
     * @throws InvalidBatchRequestException naming the field or key that is not allowed
     */
    public BatchRequest check(BatchRequest request, Caller caller) {
        requireNonNull(request, "request");
        requireNonNull(caller, "caller");
        checkShape(request);
        Map<String, String> conf = checkConf(request);
        Paths paths = new Paths();
        String file = paths.one("file", request.file());
        List<String> jars = paths.list("jars", request.jars());
        List<String> pyFiles = paths.list("pyFiles", request.pyFiles());
        List<String> files = paths.list("files", request.files());
        List<String> archives = paths.list("archives", request.archives());
        for (Map.Entry<String, String> e : new TreeMap<>(request.conf()).entrySet()) {
            if (isPathConf(e.getKey()) && !settings.forcedConf().containsKey(e.getKey())) {
                conf.put(e.getKey(), paths.commaList("conf key '" + e.getKey() + "'", e.getValue()));
            }
        }
        return new BatchRequest(file, request.className(), request.proxyUser(), request.name(),
                request.args(), jars, pyFiles, files, archives,
                request.driverMemory(), request.driverCores(), request.executorMemory(), request.executorCores(),
                request.numExecutors(), request.queue(), conf);
    }

    /** Whether a Spark property names local files (and so is held to the allowed directories). */
    static boolean isPathConf(String key) {
        return PATH_CONF.contains(key) || PATH_CONF_PATTERN.matcher(key).matches();
    }

    // --- Sizes, characters, formats -----------------------------------------------------------------

    private void checkShape(BatchRequest r) {
        if (r.file().isBlank()) {
            throw invalid("'file' is required: the application's jar or Python file");
        }
        int max = settings.maxStringLength();
        text("file", r.file(), max, false);
        count("args", r.args().size(), settings.maxArgs());
        for (int i = 0; i < r.args().size(); i++) {
            text("args[" + i + "]", r.args().get(i), settings.maxArgLength(), true);
        }
        listField("jars", r.jars());
        listField("pyFiles", r.pyFiles());
        listField("files", r.files());
        listField("archives", r.archives());
        count("conf", r.conf().size(), settings.maxConfEntries());
        for (Map.Entry<String, String> e : new TreeMap<>(r.conf()).entrySet()) {
            String key = e.getKey();
            text("conf key", key, max, false);
            if (!CONF_KEY.matcher(key).matches()) {
                throw invalid("'conf' key " + quote(key) + " is not a Spark property name (letters, digits, '.', '_', '-')");
            }
            // Keys that are no Spark property are accepted, as Livy does, and dropped at launch with a
            // notice (batch.LaunchableRequest).
            text("conf key '" + key + "'", e.getValue(), max, true);
        }
        if (!r.name().isEmpty()) {
            text("name", r.name(), max, false);
            if (!printable(r.name())) {
                throw invalid("'name' may hold printable characters only");
            }
        }
        format("className", r.className(), JAVA_BINARY_NAME, "a Java class name such as com.example.Main");
        for (String prefix : LAUNCHER_PACKAGES) {
            if (r.className().startsWith(prefix)) {
                throw invalid("'className' may not be one of Spark's launcher classes (" + prefix + "*): "
                        + "it would submit again, past these rules");
            }
        }
        format("driverMemory", r.driverMemory(), MEMORY, "a size such as 512m or 2g");
        format("executorMemory", r.executorMemory(), MEMORY, "a size such as 512m or 2g");
        format("queue", r.queue(), QUEUE, "a YARN queue name such as default or root.etl");
        format("proxyUser", r.proxyUser(), USER, "a user name");
        positive("driverCores", r.driverCores());
        positive("executorCores", r.executorCores());
        positive("numExecutors", r.numExecutors());
    }

    private void listField(String field, List<String> values) {
        count(field, values.size(), settings.maxListEntries());
        for (int i = 0; i < values.size(); i++) {
            text(field + "[" + i + "]", values.get(i), settings.maxStringLength(), false);
        }
    }

    private static void count(String field, int count, int max) {
        if (count > max) {
            throw invalid("'" + field + "' has " + count + " entries, more than the " + max + " allowed");
        }
    }

    /** NUL nowhere; other control characters only tab, LF and CR, and only where {@code whitespace} says. */
    private static void text(String field, String value, int maxLength, boolean whitespace) {
        if (value.length() > maxLength) {
            throw invalid("'" + field + "' is longer than " + maxLength + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == 0) {
                throw invalid("'" + field + "' contains a NUL character");
            }
            if (Character.getType(c) == Character.CONTROL
                    && !(whitespace && (c == '\t' || c == '\n' || c == '\r'))) {
                throw invalid("'" + field + "' contains the control character U+" + String.format("%04X", (int) c));
            }
        }
    }

    /** No control, line-separator or bidirectional-override characters: a name shows as what it is. */
    private static boolean printable(String value) {
        return value.codePoints().noneMatch(cp -> {
            int type = Character.getType(cp);
            return type == Character.CONTROL || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE
                    || type == Character.UNASSIGNED
                    || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
        });
    }

    private static void format(String field, String value, Pattern pattern, String what) {
        if (value.isEmpty()) {
            return;
        }
        if (value.length() > MAX_NAME_LENGTH || !pattern.matcher(value).matches()) {
            throw invalid("'" + field + "' must be " + what + ", got " + quote(value));
        }
    }

    private static void positive(String field, OptionalInt value) {
        if (value.isPresent() && value.getAsInt() <= 0) {
            throw invalid("'" + field + "' must be a positive number, got " + value.getAsInt());
        }
    }

    // --- Conf keys: forced, denied, allowed ----------------------------------------------------------

    /** The request's conf with the forced values added; refuses keys the operator does not allow. */
    private Map<String, String> checkConf(BatchRequest r) {
        Map<String, String> forced = settings.forcedConf();
        for (Map.Entry<String, String> e : new TreeMap<>(r.conf()).entrySet()) {
            String key = e.getKey();
            if (SubmitSettings.SERVER_OWNED_CONF.contains(key)) {
                throw invalid("'conf' may not set " + key + ": the server decides where batches run ("
                        + ConfigKeys.SPARK_MASTER + ")");
            }
            if (forced.containsKey(key)) {
                if (!forced.get(key).equals(e.getValue())) {
                    throw invalid("'conf' may not set " + key + ": the server sets it for every batch");
                }
                continue;
            }
            if (matches(settings.deniedConf(), key)) {
                throw invalid("'conf' may not set " + key + " (sparkgate.submit.denied-conf)");
            }
            if (!settings.allowedConf().isEmpty() && !matches(settings.allowedConf(), key)) {
                throw invalid("'conf' may not set " + key + ": not in sparkgate.submit.allowed-conf");
            }
            if (key.equals("spark.yarn.tags")) {
                for (String tag : e.getValue().split(",")) {
                    // YARN lowercases tags; the tracker finds each batch's application by its sparkgate- tag.
                    if (tag.trim().toLowerCase(java.util.Locale.ROOT).startsWith(Text.TAG_PREFIX)) {
                        throw invalid("'conf' spark.yarn.tags may not hold '" + tag.trim() + "': tags starting with "
                                + Text.TAG_PREFIX + " are the server's, to find each batch's application");
                    }
                }
            }
        }
        Map<String, String> fields = fieldValues(r);
        fields.forEach((field, value) -> {
            String key = FIELD_CONF.get(field);
            if (forced.containsKey(key)) {
                if (!forced.get(key).equals(value)) {
                    throw invalid("'" + field + "' may not be set: the server sets " + key + " for every batch");
                }
            } else if (matches(settings.deniedConf(), key)) {
                throw invalid("'" + field + "' may not be set: " + key + " is in sparkgate.submit.denied-conf");
            }
        });
        Map<String, String> conf = new LinkedHashMap<>(r.conf());
        forced.forEach((key, value) -> {
            // A field that sets the same property wins in spark-submit; it was checked equal above.
            conf.put(key, value);
        });
        return conf;
    }

    /** An entry matches a key exactly, or as a prefix when it ends in {@code *}. */
    static boolean matches(List<String> patterns, String key) {
        for (String p : patterns) {
            if (p.endsWith("*") ? key.startsWith(p.substring(0, p.length() - 1)) : key.equals(p)) {
                return true;
            }
        }
        return false;
    }

    /** The fields the request set, as the strings spark-submit would put in their properties. */
    private static Map<String, String> fieldValues(BatchRequest r) {
        Map<String, String> out = new LinkedHashMap<>();
        putIfSet(out, "name", r.name());
        putIfSet(out, "jars", String.join(",", r.jars()));
        putIfSet(out, "pyFiles", String.join(",", r.pyFiles()));
        putIfSet(out, "files", String.join(",", r.files()));
        putIfSet(out, "archives", String.join(",", r.archives()));
        putIfSet(out, "driverMemory", r.driverMemory());
        r.driverCores().ifPresent(v -> out.put("driverCores", Integer.toString(v)));
        putIfSet(out, "executorMemory", r.executorMemory());
        r.executorCores().ifPresent(v -> out.put("executorCores", Integer.toString(v)));
        r.numExecutors().ifPresent(v -> out.put("numExecutors", Integer.toString(v)));
        putIfSet(out, "queue", r.queue());
        return out;
    }

    private static void putIfSet(Map<String, String> out, String field, String value) {
        if (!value.isEmpty()) {
            out.put(field, value);
        }
    }

    private static Map<String, String> fieldConf() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("name", "spark.app.name");
        m.put("jars", "spark.jars");
        m.put("pyFiles", "spark.submit.pyFiles");
        m.put("files", "spark.files");
        m.put("archives", "spark.archives");
        m.put("driverMemory", "spark.driver.memory");
        m.put("driverCores", "spark.driver.cores");
        m.put("executorMemory", "spark.executor.memory");
        m.put("executorCores", "spark.executor.cores");
        m.put("numExecutors", "spark.executor.instances");
        m.put("queue", "spark.yarn.queue");
        return Map.copyOf(m);
    }

    // --- Paths --------------------------------------------------------------------------------------

    /** Checks paths against the allowed directories, as they are when the request arrives. */
    private final class Paths {
        private final List<Path> lexical = new ArrayList<>();
        private final List<Path> real = new ArrayList<>();

        Paths() {
            for (Path dir : settings.localDirs()) {
                lexical.add(dir);
                try {
                    Path r = dir.toRealPath();
                    lexical.add(r);
                    real.add(r);
                } catch (IOException e) {
                    // A configured directory that does not exist (yet) allows nothing.
                }
            }
        }

        /** The application resource: one path, not a list (spark-submit does not split it). */
        String one(String field, String value) {
            return check("'" + field + "'", value);
        }

        List<String> list(String field, List<String> values) {
            List<String> out = new ArrayList<>(values.size());
            for (int i = 0; i < values.size(); i++) {
                out.add(commaList("'" + field + "[" + i + "]'", values.get(i)));
            }
            return out;
        }

        /** A comma-separated list as spark-submit splits it: at commas, trimmed, empty entries dropped. */
        String commaList(String what, String value) {
            List<String> parts = new ArrayList<>();
            boolean changed = false;
            String[] split = value.split(",", -1);
            if (split.length > settings.maxListEntries()) {
                throw invalid(what + " lists " + split.length + " paths, more than the "
                        + settings.maxListEntries() + " allowed");
            }
            for (String part : split) {
                String trimmed = part.trim();
                if (trimmed.isEmpty()) {
                    parts.add(part);
                    continue;
                }
                String checked = check(what, trimmed);
                changed |= !checked.equals(trimmed);
                parts.add(checked);
            }
            return changed ? String.join(",", parts) : value;
        }

        /** One path or URI; returns it as it should be passed on. */
        private String check(String what, String value) {
            URI uri = parse(value);
            if (uri != null && uri.getScheme() != null) {
                String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
                if (scheme.equals("file") || scheme.equals("local")) {
                    if (uri.isOpaque() || uri.getRawAuthority() != null || uri.getPath() == null
                            || !uri.getPath().startsWith("/")) {
                        throw invalid(what + ": " + quote(value) + " is not an absolute " + scheme
                                + ": URI without a host, such as " + scheme + ":/dir/app.jar");
                    }
                    local(what, value, uri.getPath());
                    return value;
                }
                if (settings.remoteSchemes().contains(scheme)) {
                    return value;
                }
                throw invalid(what + ": the scheme '" + uri.getScheme() + "' is not allowed (allowed: "
                        + String.join(", ", new TreeSet<>(settings.remoteSchemes()))
                        + ", and local files in the allowed directories)");
            }
            // No scheme: a plain path, except that Spark reads one with a #fragment as a URI.
            String fragment = uri == null ? null : uri.getFragment();
            String pathText = fragment != null ? uri.getPath() : value;
            Path absolute = local(what, value, pathText);
            if (Path.of(pathText).isAbsolute()) {
                return value;
            }
            if (fragment == null && absolute.toString().indexOf('#') < 0) {
                return absolute.toString();
            }
            try {
                return new URI("file", null, absolute.toString(), fragment).toString();
            } catch (URISyntaxException e) {
                throw invalid(what + ": " + quote(value) + " is not a valid path");
            }
        }

        /** Checks a local path; returns it absolute and normalised. */
        private Path local(String what, String shown, String pathText) {
            if (GLOB.matcher(pathText).find()) {
                throw invalid(what + ": " + quote(shown) + " has a glob pattern (* ? [ ] { } \\), "
                        + "not allowed in local paths");
            }
            Path path;
            try {
                path = Path.of(pathText).toAbsolutePath();
            } catch (InvalidPathException e) {
                throw invalid(what + ": " + quote(shown) + " is not a valid path");
            }
            Path normal = path.normalize();
            if (!inside(normal, lexical)) {
                throw invalid(what + ": " + quote(shown) + " is outside the directories local files may come from "
                        + "(sparkgate.submit.local-dirs)");
            }
            Path resolved;
            try {
                resolved = path.toRealPath();
            } catch (NoSuchFileException e) {
                throw invalid(what + ": the local file " + quote(shown) + " does not exist");
            } catch (IOException e) {
                throw invalid(what + ": the local file " + quote(shown) + " cannot be read");
            }
            if (!inside(resolved, real)) {
                throw invalid(what + ": " + quote(shown) + " leads outside the directories local files may come "
                        + "from (through a symbolic link)");
            }
            if (!Files.isReadable(resolved)) {
                throw invalid(what + ": the local file " + quote(shown) + " cannot be read");
            }
            return normal;
        }

        private static boolean inside(Path path, List<Path> dirs) {
            for (Path dir : dirs) {
                if (path.startsWith(dir)) {
                    return true;
                }
            }
            return false;
        }

        private static URI parse(String value) {
            try {
                return new URI(value);
            } catch (URISyntaxException e) {
                return null; // as in Spark: then it is a plain path
            }
        }
    }

    private static String quote(String value) {
        return "'" + Text.shown(value) + "'";
    }

    private static InvalidBatchRequestException invalid(String message) {
        return new InvalidBatchRequestException(message);
    }
}
