package io.sparkgate.server;

import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.Installation;
import java.io.PrintWriter;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code sparkgate check-config}: validates a configuration as the server would (file, environment,
 * flags) without starting anything, and prints every key that was set with where it came from, the keys
 * left at their defaults, and the effective values the server would run with. Secrets are masked.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Validates the configuration and prints the effective values with their sources.")
final class CheckConfig implements Callable<Integer> {

    /** Key or field names whose values are never printed. */
    private static final Pattern SECRET = Pattern.compile("(?i).*(password|secret|credential|token(?!s-?file)).*");
    /** A password inside a JDBC URL. */
    private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");
    private static final String MASK = "******";

    @CommandLine.Mixin
    Main.ServerOptions options = new Main.ServerOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ConfigLoader.Explanation explained;
        try {
            explained = ConfigLoader.explain(options.file(), options.config != null, System.getenv(), options.flags(),
                    Installation.fromSystemProperties());
        } catch (ConfigLoader.ConfigException e) {
            spec.commandLine().getErr().println("sparkgate: invalid configuration: " + e.getMessage());
            return 2;
        }
        out.println("Configuration is valid (" + describe(options.file(), options.config != null) + ").");
        out.println();
        out.println("Set:");
        Set<String> set = new TreeSet<>();
        List<ConfigLoader.Given> ignored = new java.util.ArrayList<>();
        for (ConfigLoader.Given g : explained.given()) {
            if (!g.key().startsWith("sparkgate.")) {
                ignored.add(g);
                continue;
            }
            set.add(g.key());
            out.printf("  %s = %s    (%s)%n", g.key(), mask(g.key(), g.value()), source(g));
        }
        if (set.isEmpty()) {
            out.println("  nothing: every key has its default");
        }
        out.println();
        out.println("Defaults (not set):");
        for (String key : ConfigLoader.knownKeys()) {
            if (!set.contains(key)) {
                out.println("  " + key);
            }
        }
        if (!ignored.isEmpty()) {
            out.println();
            out.println("Ignored (not Sparkgate keys):");
            ignored.forEach(g -> out.println("  " + g.key() + "    (" + source(g) + ")"));
        }
        out.println();
        out.println("Effective values:");
        print(out, "", explained.config());
        return 0;
    }

    private static String describe(Path file, boolean named) {
        if (java.nio.file.Files.isRegularFile(file)) {
            return "file " + file.toAbsolutePath().normalize();
        }
        return named ? "file " + file : "no config file (" + file + " absent)";
    }

    private static String source(ConfigLoader.Given g) {
        return switch (g.source()) {
            case FILE -> "file " + g.givenAs();
            case ENVIRONMENT -> "environment " + g.givenAs();
            case FLAG -> "flag";
        };
    }

    /** A record as {@code path = value} lines, nested records flattened, secrets masked. */
    private static void print(PrintWriter out, String prefix, Record record) {
        for (RecordComponent c : record.getClass().getRecordComponents()) {
            Object value;
            try {
                value = c.getAccessor().invoke(record);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            String path = prefix + c.getName();
            if (value instanceof Optional<?> opt) {
                value = opt.orElse(null);
            }
            if (value instanceof Record nested) {
                print(out, path + ".", nested);
            } else {
                out.printf("  %s = %s%n", path, mask(path, render(value)));
            }
        }
    }

    private static String render(Object value) {
        if (value == null) {
            return "(none)";
        }
        if (value instanceof Collection<?> list) {
            return list.isEmpty() ? "(none)" : String.join(", ", list.stream().map(CheckConfig::render).toList());
        }
        if (value instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                return "(none)";
            }
            StringBuilder b = new StringBuilder();
            map.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append('=')
                    .append(mask(String.valueOf(k), render(v))));
            return b.toString();
        }
        if (value instanceof java.time.Duration d) {
            return duration(d);
        }
        return String.valueOf(value);
    }

    /** As the config file writes durations: 7d, 10m, 250ms. */
    private static String duration(java.time.Duration d) {
        long ms = d.toMillis();
        for (var unit : List.of(Map.entry("d", 86_400_000L), Map.entry("h", 3_600_000L), Map.entry("m", 60_000L),
                Map.entry("s", 1_000L))) {
            if (ms != 0 && ms % unit.getValue() == 0) {
                return ms / unit.getValue() + unit.getKey();
            }
        }
        return ms + "ms";
    }

    static String mask(String name, String value) {
        if (value == null || value.isEmpty()) {
            return value;
        }
        if (SECRET.matcher(name).matches()) {
            return MASK;
        }
        return URL_PASSWORD.matcher(value).replaceAll("$1" + MASK);
    }
}
