package io.sparkgate.server.yarn;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.YarnSettings;
import io.sparkgate.server.launch.LaunchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.kerby.kerberos.kerb.KrbException;
import org.apache.kerby.kerberos.kerb.client.KrbClient;
import org.apache.kerby.kerberos.kerb.client.KrbConfig;
import org.apache.kerby.kerberos.kerb.type.ticket.TgtTicket;

/**
 * A Kerberos ticket cache with the server's own TGT, for a {@code spark-submit} that cannot log in from
 * the keytab itself: Spark refuses {@code --principal} together with {@code --proxy-user}, and then
 * takes the submitter's tickets from the cache {@code KRB5CCNAME} names. Apache Kerby's client asks the
 * KDC for the ticket with the keytab's keys and writes it in MIT's credential cache format, in this JVM,
 * as {@code kinit -kt KEYTAB -c CACHE PRINCIPAL} would.
 *
 * <p>The realm's KDCs come from the same {@code krb5.conf} as the JVM's ({@code java.security.krb5.conf},
 * else {@code /etc/krb5.conf}). Stateless; any thread.
 */
final class TicketCache {

    private static final Path SYSTEM_KRB5_CONF = Path.of("/etc/krb5.conf");

    private TicketCache() {}

    /**
     * Writes a fresh ticket cache for {@code login} to {@code cache} (readable by this OS user only).
     *
     * @throws LaunchException when the KDC cannot be reached or refuses the keytab's keys
     */
    static Path fill(YarnSettings.KerberosLogin login, Path cache) {
        requireNonNull(login, "login");
        requireNonNull(cache, "cache");
        Path krb5Conf = krb5Conf();
        try {
            KrbConfig config = new KrbConfig();
            config.addKrb5Config(krb5Conf.toFile());
            KrbClient client = new KrbClient(config);
            client.init();
            TgtTicket tgt = client.requestTgt(login.principal(), login.keytab().toFile());
            Files.createDirectories(cache.getParent());
            Files.deleteIfExists(cache);
            Files.createFile(cache, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            client.storeTicket(tgt, cache.toFile());
            return cache;
        } catch (KrbException | IOException e) {
            throw new LaunchException("cannot get a Kerberos ticket for " + login.principal() + " from "
                    + login.keytab() + " (KDCs of " + krb5Conf + ") for the proxy user's spark-submit: "
                    + e.getMessage(), e);
        }
    }

    /** The krb5.conf the JVM reads. */
    static Path krb5Conf() {
        String property = System.getProperty("java.security.krb5.conf");
        return property != null ? Path.of(property) : SYSTEM_KRB5_CONF;
    }
}
