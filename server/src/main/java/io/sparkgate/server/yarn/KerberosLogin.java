package io.sparkgate.server.yarn;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.config.ConfigKeys;
import io.sparkgate.server.config.ConfigLoader.ConfigException;
import io.sparkgate.server.config.YarnSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.SecurityUtil;
import org.apache.hadoop.security.UserGroupInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's own Kerberos identity on a kerberized cluster: Hadoop's
 * {@link UserGroupInformation#loginUserFromKeytab} with {@code sparkgate.yarn.principal} and
 * {@code sparkgate.yarn.keytab}, so the YarnClient and the aggregated-log readers (which act as
 * Hadoop's login user) talk to the ResourceManager and HDFS as that principal. The ticket is renewed
 * before it expires: {@link UserGroupInformation#checkTGTAndReloginFromKeytab} runs on a schedule, and
 * logs in again from the keytab once the ticket has used up most of its lifetime.
 *
 * <p>The login user is process-wide in Hadoop; this class is its only writer. The relogin runs on the
 * server's scheduler thread.
 */
public final class KerberosLogin implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KerberosLogin.class);
    /** How often the ticket's age is checked; Hadoop relogs in at 80 % of its lifetime. */
    static final Duration CHECK_INTERVAL = Duration.ofMinutes(1);

    private final UserGroupInformation user;
    private final ScheduledFuture<?> renewal;

    private KerberosLogin(UserGroupInformation user, ScheduledFuture<?> renewal) {
        this.user = user;
        this.renewal = renewal;
    }

    /**
     * Logs the server in from its keytab and schedules the renewal, checking every {@code interval}.
     *
     * @throws ConfigException when the cluster's configuration has no Kerberos, or the login fails
     */
    public static KerberosLogin start(YarnSettings.KerberosLogin login, Configuration conf,
                                      ScheduledExecutorService scheduler, Duration interval) {
        requireNonNull(login, "login");
        requireNonNull(conf, "conf");
        if (!"kerberos".equalsIgnoreCase(conf.get("hadoop.security.authentication", "simple"))) {
            throw new ConfigException(ConfigKeys.YARN_PRINCIPAL + " is set, but the cluster's configuration says "
                    + "hadoop.security.authentication = " + conf.get("hadoop.security.authentication", "simple")
                    + ": point " + ConfigKeys.YARN_CONF_DIR + " at the kerberized cluster's core-site.xml");
        }
        UserGroupInformation.setConfiguration(conf);
        try {
            UserGroupInformation.loginUserFromKeytab(principal(login), login.keytab().toString());
        } catch (IOException e) {
            throw new ConfigException("cannot log in as " + ConfigKeys.YARN_PRINCIPAL + " = " + login.principal()
                    + " with " + ConfigKeys.YARN_KEYTAB + " = " + login.keytab() + ": " + e.getMessage());
        }
        UserGroupInformation user;
        try {
            user = UserGroupInformation.getLoginUser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        log.info("Kerberos: logged in to the cluster as {} from {}; the ticket is renewed before it expires",
                login.principal(), login.keytab());
        long millis = interval.toMillis();
        ScheduledFuture<?> renewal = scheduler.scheduleWithFixedDelay(() -> renew(user), millis, millis,
                TimeUnit.MILLISECONDS);
        return new KerberosLogin(user, renewal);
    }

    /**
     * The configured principal with {@code _HOST} replaced by this machine's fully qualified name, as in
     * Hadoop's own daemons' principals.
     */
    static String principal(YarnSettings.KerberosLogin login) {
        try {
            return SecurityUtil.getServerPrincipal(login.principal(), (String) null);
        } catch (IOException e) {
            throw new ConfigException("cannot resolve _HOST in " + ConfigKeys.YARN_PRINCIPAL + " = "
                    + login.principal() + ": " + e.getMessage());
        }
    }

    private static void renew(UserGroupInformation user) {
        try {
            user.checkTGTAndReloginFromKeytab();
        } catch (IOException | RuntimeException e) {
            // The next check tries again; until then calls use the ticket still held, while it lasts.
            log.warn("Kerberos: renewing the login of {} failed", user.getUserName(), e);
        }
    }

    /** The logged-in user (the principal's name). */
    public UserGroupInformation user() {
        return user;
    }

    @Override
    public void close() {
        renewal.cancel(false);
    }
}
