package io.sparkgate.server.security;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Kerberos principal → user name mapping rules in Hadoop's {@code hadoop.security.auth_to_local} language
 * (Livy's {@code livy.server.auth.kerberos.name-rules}), for the callers SPNEGO authenticates. A rule
 * list is tried in order and the first rule that applies gives the name:
 *
 * <ul>
 *   <li>{@code DEFAULT}: the first component of a principal of the default realm
 *       ({@code alice/admin@REALM} → {@code alice});
 *   <li>{@code RULE:[n:format](regex)s/pattern/replacement/g/L}: for a principal of {@code n} components,
 *       {@code format} built from {@code $0} (the realm) and {@code $1}…{@code $n} (the components); it
 *       must match {@code regex} if given; then the {@code sed}-like substitution ({@code g}: every
 *       occurrence), and {@code L} lowers the case.
 * </ul>
 *
 * <p>Hadoop's own implementation ({@code KerberosName}) keeps its rules in one static field that Hadoop's
 * client code resets whenever it re-reads a configuration (the server's YARN login does), so the callers'
 * rules cannot live there. A name that still has a {@code /} or {@code @} after its rule is refused, as
 * Hadoop's default rule mechanism does. Immutable; any thread.
 */
public final class KerberosNameRules {

    /** Hadoop's default: the first component of a principal of the default realm. */
    public static final String DEFAULT = "DEFAULT";

    private static final Pattern RULE = Pattern.compile(
            "\\s*(?:(DEFAULT)|RULE:\\[(\\d+):([^\\]]*)\\](?:\\(([^)]*)\\))?(?:s/([^/]*)/([^/]*)/(g)?)?)/?(L)?");
    private static final Pattern PARAMETER = Pattern.compile("\\$(\\d+)");

    private final String text;
    private final List<Rule> rules;

    private KerberosNameRules(String text, List<Rule> rules) {
        this.text = text;
        this.rules = List.copyOf(rules);
    }

    /**
     * Parses a rule list (rules separated by white space or new lines).
     *
     * @throws IllegalArgumentException naming the part that is not a rule
     */
    public static KerberosNameRules parse(String text) {
        requireNonNull(text, "text");
        List<Rule> rules = new ArrayList<>();
        String rest = text.strip();
        while (!rest.isEmpty()) {
            Matcher m = RULE.matcher(rest);
            if (!m.lookingAt() || m.end() == 0) {
                throw new IllegalArgumentException("not a rule: '" + rest + "'");
            }
            rules.add(rule(m));
            rest = rest.substring(m.end()).strip();
        }
        if (rules.isEmpty()) {
            throw new IllegalArgumentException("no rule (Hadoop's default is DEFAULT)");
        }
        return new KerberosNameRules(text.strip(), rules);
    }

    private static Rule rule(Matcher m) {
        boolean lowerCase = m.group(8) != null;
        if (m.group(1) != null) {
            return new Rule(0, null, null, null, null, false, lowerCase);
        }
        try {
            Pattern match = m.group(4) == null ? null : Pattern.compile(m.group(4));
            Pattern from = m.group(5) == null ? null : Pattern.compile(m.group(5));
            return new Rule(Integer.parseInt(m.group(2)), m.group(3), match, from, m.group(6), m.group(7) != null,
                    lowerCase);
        } catch (PatternSyntaxException | NumberFormatException e) {
            throw new IllegalArgumentException("bad rule '" + m.group().strip() + "': " + e.getMessage());
        }
    }

    /**
     * The user name of {@code principal} ({@code name/instance@REALM}), or empty when no rule applies or
     * the first that applies fails (the caller is then refused).
     *
     * @param defaultRealm the realm whose principals {@code DEFAULT} maps
     */
    public Optional<String> shortName(String principal, String defaultRealm) {
        requireNonNull(principal, "principal");
        requireNonNull(defaultRealm, "defaultRealm");
        int at = principal.lastIndexOf('@');
        if (at <= 0 || at == principal.length() - 1) {
            return Optional.empty();
        }
        String realm = principal.substring(at + 1);
        String[] components = principal.substring(0, at).split("/", -1);
        if (components.length > 2 || java.util.Arrays.stream(components).anyMatch(String::isEmpty)) {
            return Optional.empty(); // Hadoop's names have one or two components
        }
        for (Rule rule : rules) {
            Optional<String> name;
            try {
                name = rule.apply(realm, components, defaultRealm);
            } catch (IllegalStateException e) {
                // A rule that cannot be applied to this principal refuses it, as Hadoop's mapping fails.
                return Optional.empty();
            }
            if (name.isPresent()) {
                String user = name.get();
                return user.isEmpty() || user.contains("/") || user.contains("@") ? Optional.empty() : name;
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return text;
    }

    /** One rule; {@code components == 0} is {@code DEFAULT}. */
    private record Rule(int components, String format, Pattern match, Pattern from, String to, boolean global,
                        boolean lowerCase) {

        Optional<String> apply(String realm, String[] names, String defaultRealm) {
            String result;
            if (components == 0) {
                if (!realm.equals(defaultRealm)) {
                    return Optional.empty();
                }
                result = names[0];
            } else {
                if (names.length != components) {
                    return Optional.empty();
                }
                String base = format(realm, names);
                if (match != null && !match.matcher(base).matches()) {
                    return Optional.empty();
                }
                result = base;
                if (from != null) {
                    // The replacement may refer to the pattern's groups ($1), as in Hadoop's rules.
                    Matcher m = from.matcher(result);
                    try {
                        result = global ? m.replaceAll(to) : m.replaceFirst(to);
                    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                        throw new IllegalStateException("bad replacement in a name rule: " + to, e);
                    }
                }
            }
            return Optional.of(lowerCase ? result.toLowerCase(Locale.ROOT) : result);
        }

        /** {@code format} with {@code $0} the realm and {@code $i} the i-th component. */
        private String format(String realm, String[] names) {
            Matcher m = PARAMETER.matcher(format);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                int index = Integer.parseInt(m.group(1));
                if (index > names.length) {
                    throw new IllegalStateException("name rule format '" + format + "' refers to $" + index
                            + " of " + names.length + " components");
                }
                m.appendReplacement(out, Matcher.quoteReplacement(index == 0 ? realm : names[index - 1]));
            }
            m.appendTail(out);
            return out.toString();
        }
    }
}
