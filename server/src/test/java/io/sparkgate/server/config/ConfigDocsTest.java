package io.sparkgate.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * An operator reads the template and README, the server reads {@link ConfigKeys}: the three must say the
 * same. A key added to the declaration without its docs, documented under a name the server does not
 * know, or shown with a default it does not have, fails here with the line to fix.
 */
class ConfigDocsTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** A commented-out setting in the template: {@code # sparkgate.x.y = value}. */
    private static final Pattern TEMPLATE_LINE = Pattern.compile("^#\\s?(sparkgate\\.[A-Za-z0-9.*<>_-]+)\\s*=\\s*(.*)$");
    /** A row of one of README's key tables: {@code | `sparkgate.x` (...) | default | meaning |}. */
    private static final Pattern README_ROW = Pattern.compile("^\\| `(sparkgate\\.[^`]+)`.*\\|$");
    private static final Pattern MENTION = Pattern.compile("(?<![A-Za-z0-9_$./-])sparkgate\\.[a-z][a-z0-9-]*(\\.[a-z0-9-]+)*");

    @Test
    void theTemplateShowsEveryKeyWithItsDefault() throws IOException {
        Map<String, String> template = templateSettings();
        SoftAssertions softly = new SoftAssertions();
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            if (key.isPrefix()) {
                softly.assertThat(template.keySet()).as("a template line setting an entry of %s", key.name())
                        .anyMatch(k -> k.startsWith(key.name()));
                continue;
            }
            softly.assertThat(template).as("conf/sparkgate.conf.template has a line '# %s = ...'", key.name())
                    .containsKey(key.name());
            key.defaultValue().filter(v -> template.containsKey(key.name())).ifPresent(v ->
                    softly.assertThat(template.get(key.name()))
                            .as("the template shows the default of %s", key.name()).isEqualTo(v));
        }
        for (String name : template.keySet()) {
            softly.assertThat(known(name)).as("the template's %s is a key the server knows", name).isTrue();
        }
        softly.assertAll();
    }

    @Test
    void readmeTablesAreTheDeclarationsRows() throws IOException {
        List<String> readme = Files.readAllLines(ROOT.resolve("README.md"));
        SoftAssertions softly = new SoftAssertions();
        boolean keyTable = false;
        for (String line : readme) {
            if (line.startsWith("| key |")) {
                keyTable = line.equals("| key | default | meaning |");
            }
            Matcher m = README_ROW.matcher(line);
            if (!keyTable || !m.matches()) {
                continue;
            }
            Optional<ConfigKey<?>> key = ConfigKeys.ALL.stream().filter(k -> k.displayName().equals(m.group(1))).findFirst();
            if (m.group(1).endsWith(".*")) {
                continue; // a pointer to a section's own table
            }
            softly.assertThat(key).as("README's row for %s names a declared key", m.group(1)).isPresent();
            key.ifPresent(k -> softly.assertThat(line).as("README's row for %s", k.name()).isEqualTo(row(k)));
        }
        String text = String.join("\n", readme);
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            softly.assertThat(text).as("README mentions %s", key.name()).contains(key.name());
        }
        Matcher mention = MENTION.matcher(text);
        while (mention.find()) {
            String name = mention.group().replaceAll("\\.$", "");
            if (name.endsWith(".conf") || name.endsWith(".template")) {
                continue; // a file's name (sparkgate.conf, sparkgate.conf.template), not a key
            }
            softly.assertThat(known(name) || isSection(name)).as("README's %s is a key the server knows", name).isTrue();
        }
        softly.assertAll();
    }

    /** The row README's table has for a key, from its declaration alone. */
    static String row(ConfigKey<?> key) {
        StringBuilder names = new StringBuilder("`" + key.displayName() + "`");
        key.livyName().ifPresent(livy -> names.append(" (`").append(livy).append("`)"));
        key.oldName().ifPresent(old -> names.append(" (old name `").append(old).append("`)"));
        return "| " + names + " | " + key.defaultDoc() + " | " + key.doc() + " |";
    }

    private static boolean known(String name) {
        return ConfigKeys.ALL.stream().anyMatch(k -> k.matches(name) || k.name().equals(name)
                || k.displayName().equals(name) || k.oldName().filter(name::equals).isPresent());
    }

    /** A mention such as {@code sparkgate.admission} or {@code sparkgate.auth}: the start of some keys' names. */
    private static boolean isSection(String name) {
        return ConfigKeys.ALL.stream().anyMatch(k -> k.name().startsWith(name + "."))
                || name.startsWith("sparkgate.v1"); // the proto package, sparkgate.v1.BatchService
    }

    private static Map<String, String> templateSettings() throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ROOT.resolve("conf/sparkgate.conf.template"))) {
            Matcher m = TEMPLATE_LINE.matcher(line.strip());
            if (m.matches()) {
                settings.putIfAbsent(m.group(1), m.group(2).strip());
            }
        }
        return settings;
    }
}
