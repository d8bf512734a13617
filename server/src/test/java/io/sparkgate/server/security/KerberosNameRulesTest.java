package io.sparkgate.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.apache.hadoop.security.authentication.util.KerberosName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Principal → user name rules as a Hadoop (and Livy) admin writes them for {@code auth_to_local}: the
 * names are the ones Hadoop's own {@code KerberosName} gives for the same rules.
 */
class KerberosNameRulesTest {

    private static final String REALM = TestKdc.REALM;

    /** Rules from Hadoop's documentation and from clusters: realm trust, service mapping, lower case. */
    private static final List<String> RULES = List.of(
            "DEFAULT",
            "RULE:[1:$1@$0](.*@CORP\\.EXAMPLE\\.COM)s/@.*// DEFAULT",
            "RULE:[2:$1@$0](HTTP@.*)s/.*/web/ RULE:[2:$1%$2@$0](.*%admin@.*)s/%.*//\nDEFAULT",
            "RULE:[1:$1]/L RULE:[2:$1]/L",
            "RULE:[2:$1;$2](^.*;ops$)s/^(.*);ops$/$1-ops/ RULE:[1:$1@$0](.*@" + REALM.replace(".", "\\.") + ")s/@.*//",
            "RULE:[1:x$1x]s/x/y/g",
            "RULE:[2:$1@$0](sparkgate@.*)s/.*/sparkgate/ RULE:[1:$1@$0](.*)s/@.*//");
    private static final List<String> PRINCIPALS = List.of(
            "alice@" + REALM, "alice/admin@" + REALM, "Bob@" + REALM, "HTTP/gateway.example.com@" + REALM,
            "sparkgate/gateway.example.com@" + REALM, "carol@CORP.EXAMPLE.COM", "dave/ops@" + REALM,
            "x/y/z@" + REALM, "eve@OTHER.REALM", "BOB/ADMIN@" + REALM);

    private static String hadoopRules;

    @BeforeAll
    static void hadoopUsesTheTestRealmAsDefault() {
        TestKdc.get(); // krb5.conf's default_realm = the test realm, for Hadoop's DEFAULT too
        KerberosName.resetDefaultRealm();
        hadoopRules = KerberosName.hasRulesBeenSet() ? KerberosName.getRules() : null;
    }

    @AfterAll
    static void restoreHadoopsRules() {
        KerberosName.setRules(hadoopRules);
    }

    @Test
    void theDefaultRuleGivesTheFirstComponentOfAPrincipalOfTheDefaultRealm() {
        KerberosNameRules rules = KerberosNameRules.parse(KerberosNameRules.DEFAULT);
        assertThat(rules.shortName("alice@" + REALM, REALM)).contains("alice");
        assertThat(rules.shortName("alice/admin@" + REALM, REALM)).contains("alice");
        assertThat(rules.shortName("alice@OTHER.REALM", REALM)).isEmpty();
    }

    @Test
    void rulesMapAnotherRealmsUsersAndServicesAndLowerTheCase() {
        KerberosNameRules trust = KerberosNameRules.parse(RULES.get(1));
        assertThat(trust.shortName("carol@CORP.EXAMPLE.COM", REALM)).contains("carol");
        assertThat(trust.shortName("eve@OTHER.REALM", REALM)).isEmpty();

        KerberosNameRules services = KerberosNameRules.parse(RULES.get(2));
        assertThat(services.shortName("HTTP/gateway.example.com@" + REALM, REALM)).contains("web");
        assertThat(services.shortName("alice/admin@" + REALM, REALM)).contains("alice");

        KerberosNameRules lower = KerberosNameRules.parse(RULES.get(3));
        assertThat(lower.shortName("BOB/ADMIN@" + REALM, REALM)).contains("bob");
    }

    @Test
    void everyNameIsTheOneHadoopGivesForTheSameRules() {
        for (String text : RULES) {
            KerberosNameRules ours = KerberosNameRules.parse(text);
            KerberosName.setRules(text);
            for (String principal : PRINCIPALS) {
                assertThat(ours.shortName(principal, REALM)).as("%s with rules %s", principal, text)
                        .isEqualTo(hadoops(principal));
            }
        }
    }

    @Test
    void aRuleListWithAMistakeIsRefusedNamingIt() {
        assertThatThrownBy(() -> KerberosNameRules.parse("RULE:[1:$1] DEFALT"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DEFALT");
        assertThatThrownBy(() -> KerberosNameRules.parse("RULE:[1:$1](a(b)"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RULE:[1:$1](a(b)");
        assertThatThrownBy(() -> KerberosNameRules.parse("RULE:[1:$1]s/(/x/"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad rule");
        assertThatThrownBy(() -> KerberosNameRules.parse("  "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no rule");
    }

    private static Optional<String> hadoops(String principal) {
        try {
            String name = new KerberosName(principal).getShortName();
            return Optional.of(name);
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
