package io.sparkgate.server.config;

import io.sparkgate.server.config.ConfigKey.Type;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key of the server, each declared once, section by section, as Livy's
 * {@code LivyConf} and Kyuubi's {@code KyuubiConf} do. Adding a key is one declaration here (name, type,
 * default, Livy name, a line of doc), a read in its settings record, and its lines in
 * {@code conf/sparkgate.conf.template} and README.md, which {@code ConfigDocsTest} checks against this
 * class. The doc line is the "meaning" of the key's row in README's tables.
 *
 * <p>Over 100 lines because it is the list of keys: one place to read them all.
 */
public final class ConfigKeys {

    private ConfigKeys() {}

    // --- The server ---------------------------------------------------------------------------------
    public static final ConfigKey<String> HOST = ConfigKey.of("sparkgate.server.host", Type.STRING,
            "address to bind").withDefault("127.0.0.1").withLivyName("livy.server.host");
    public static final ConfigKey<Integer> PORT = ConfigKey.of("sparkgate.server.port", Type.INT,
            "the one port; flag `--port`").withDefault("8998").withLivyName("livy.server.port");
    public static final ConfigKey<Path> DATA_DIR = ConfigKey.of("sparkgate.data-dir", Type.PATH,
            "batch logs and the embedded database; flag `--data-dir`").withDefault("data");
    public static final ConfigKey<Long> MAX_REQUEST_SIZE = ConfigKey.of("sparkgate.server.max-request-size",
            Type.SIZE, "largest request body (413 / `RESOURCE_EXHAUSTED` beyond it)").withDefault("1m");
    public static final ConfigKey<Boolean> CSRF_PROTECTION = ConfigKey.of("sparkgate.csrf-protection",
            Type.BOOLEAN, "non-GET HTTP requests need an `X-Requested-By` header (Livy's CSRF mode)")
            .withDefault("false").withLivyName("livy.server.csrf-protection.enabled");

    // --- The batch database -------------------------------------------------------------------------
    public static final ConfigKey<String> STORE_URL = ConfigKey.of("sparkgate.store.url", Type.STRING,
            "JDBC URL of the batch database, e.g. `jdbc:postgresql://host:5432/sparkgate`")
            .withDefault("").describedAs("empty: H2 file database in `<data-dir>/store/`");
    public static final ConfigKey<String> STORE_USER = ConfigKey.of("sparkgate.store.user", Type.STRING,
            "database user").withDefault("sparkgate");
    public static final ConfigKey<String> STORE_PASSWORD = ConfigKey.of("sparkgate.store.password", Type.STRING,
            "database password (better: `SPARKGATE_STORE_PASSWORD`)").withDefault("");

    // --- How long batches live ----------------------------------------------------------------------
    public static final ConfigKey<Duration> RETENTION = ConfigKey.of("sparkgate.retention", Type.DURATION,
            "how long finished batches (and their logs) are kept").withDefault("7d");
    public static final ConfigKey<Duration> TIMEOUT_NOT_STARTED = ConfigKey.of("sparkgate.timeout.not-started",
            Type.DURATION, "longest wait to start (see [Admission](#admission)), then `dead`").withDefault("1h");
    public static final ConfigKey<Duration> TIMEOUT_STARTING = ConfigKey.of("sparkgate.timeout.starting",
            Type.DURATION, "longest time in `starting`, then killed and `dead`").withDefault("10m");
    public static final ConfigKey<Duration> TIMEOUT_RUNNING = ConfigKey.of("sparkgate.timeout.running",
            Type.DURATION, "longest run, then killed and `dead`; `0` = no limit").withDefault("7d");
    public static final ConfigKey<Duration> KILL_GRACE_PERIOD = ConfigKey.of("sparkgate.kill.grace-period",
            Type.DURATION, "SIGTERM → SIGKILL delay when a batch is deleted").withDefault("10s");

    // --- Spark --------------------------------------------------------------------------------------
    public static final ConfigKey<Path> SPARK_HOME = ConfigKey.of("sparkgate.spark.home", Type.PATH,
            "where `bin/spark-submit` is: the embedded one or your own distribution (see [below](#your-own-spark))")
            .withComputedDefault("`$SPARK_HOME`, else the embedded Spark home");
    public static final ConfigKey<String> SPARK_MASTER = ConfigKey.of("sparkgate.spark.master", Type.STRING,
            "master of every batch").withDefault("local[*]").withLivyName("livy.spark.master");
    public static final ConfigKey<Map<String, String>> SPARK_CONF = ConfigKey.prefix("sparkgate.spark-conf.",
            "spark.key", "Spark property for every batch (the request's `conf` wins)");

    // --- YARN ---------------------------------------------------------------------------------------
    public static final ConfigKey<Path> YARN_CONF_DIR = ConfigKey.of("sparkgate.yarn.conf-dir", Type.PATH,
            "the cluster's `core-site.xml` / `yarn-site.xml` (master `yarn`)")
            .withComputedDefault("`$HADOOP_CONF_DIR`, else `$YARN_CONF_DIR`");
    public static final ConfigKey<Duration> YARN_POLL_INTERVAL = ConfigKey.of("sparkgate.yarn.poll-interval",
            Type.DURATION, "how often the one tracker asks the ResourceManager about all batches")
            .withDefault("1s").withLivyName("livy.server.yarn.poll-interval");
    public static final ConfigKey<Duration> YARN_APP_LOOKUP_TIMEOUT = ConfigKey.of(
            "sparkgate.yarn.app-lookup-timeout", Type.DURATION,
            "longest wait for a batch's application to appear in YARN, then `dead` (a late one is killed)")
            .withDefault("120s").withLivyName("livy.server.yarn.app-lookup-timeout");
    public static final ConfigKey<String> YARN_PRINCIPAL = ConfigKey.of("sparkgate.yarn.principal", Type.STRING,
            "the server's own Kerberos principal on a kerberized cluster (`_HOST` allowed; see "
            + "[Kerberized clusters](#kerberized-clusters))").withLivyName("livy.server.launch.kerberos.principal");
    public static final ConfigKey<String> YARN_KEYTAB = ConfigKey.of("sparkgate.yarn.keytab", Type.STRING,
            "the keytab of `sparkgate.yarn.principal`; both or neither")
            .withLivyName("livy.server.launch.kerberos.keytab");
    public static final ConfigKey<Map<String, String>> HADOOP_CONF = ConfigKey.prefix("sparkgate.hadoop-conf.",
            "hadoop.key", "Hadoop property for the YarnClient and (as `spark.hadoop.*`) every batch");

    // --- Access control -----------------------------------------------------------------------------
    public static final ConfigKey<Boolean> IMPERSONATION = ConfigKey.of("sparkgate.access.impersonation",
            Type.BOOLEAN, "whether a request may name a `proxyUser`")
            .withDefault("false").withLivyName("livy.impersonation.enabled");
    public static final ConfigKey<List<String>> SUPERUSERS = ConfigKey.of("sparkgate.access.superusers", Type.LIST,
            "may impersonate anyone, read and delete every batch")
            .withDefault("").describedAs("none").withLivyName("livy.superusers");
    public static final ConfigKey<List<String>> ALLOWED_USERS = ConfigKey.of("sparkgate.access.allowed-users",
            Type.LIST, "who may use the server at all (others: 403)")
            .withDefault("*").withLivyName("livy.server.access-control.allowed-users");
    public static final ConfigKey<List<String>> VIEW_USERS = ConfigKey.of("sparkgate.access.view-users", Type.LIST,
            "may read every batch's log and streams")
            .withDefault("").describedAs("none").withLivyName("livy.server.access-control.view-users");
    public static final ConfigKey<List<String>> MODIFY_USERS = ConfigKey.of("sparkgate.access.modify-users",
            Type.LIST, "may read and delete every batch")
            .withDefault("").describedAs("none").withLivyName("livy.server.access-control.modify-users");
    public static final ConfigKey<String> OTHERS_BATCHES = ConfigKey.of("sparkgate.access.others-batches",
            Type.STRING, "`listed`: other users' batches appear in lists and `GET /batches/{id}` without log "
                         + "lines; `hidden`: not at all (404, left out of `total`)").withDefault("listed");

    // --- What may be submitted ----------------------------------------------------------------------
    public static final ConfigKey<List<String>> LOCAL_DIRS = ConfigKey.of("sparkgate.submit.local-dirs", Type.LIST,
            "directories local files must lie in; empty: no local files")
            .withComputedDefault("`<sparkgate home>/examples`").withLivyName("livy.file.local-dir-whitelist");
    public static final ConfigKey<List<String>> REMOTE_SCHEMES = ConfigKey.of("sparkgate.submit.remote-schemes",
            Type.LIST, "URI schemes a request may name besides local files").withDefault("hdfs,s3a,gs,abfss,https");
    public static final ConfigKey<List<String>> DENIED_CONF = ConfigKey.of("sparkgate.submit.denied-conf", Type.LIST,
            "Spark conf keys a request may not set (`*` suffix = prefix)").withDefault(String.join(",",
            // (spark.master and spark.submit.deployMode are always the server's: SubmitSettings.SERVER_OWNED_CONF.)
            // Spark's own runtime on YARN: the operator's jars, not the user's.
            "spark.yarn.jars", "spark.yarn.archive",
            // Arbitrary local files on the driver's (in local mode: the server's) class and library path.
            "spark.driver.extraClassPath", "spark.executor.extraClassPath",
            "spark.driver.extraLibraryPath", "spark.executor.extraLibraryPath",
            // JVM options of the driver: -javaagent:, -XX:OnOutOfMemoryError=<command>, ... run on the server.
            "spark.driver.extraJavaOptions", "spark.driver.defaultJavaOptions",
            // The server's Kerberos identity.
            "spark.kerberos.keytab", "spark.kerberos.principal", "spark.yarn.keytab", "spark.yarn.principal",
            // Programs the driver starts: any executable on the server.
            "spark.pyspark.python", "spark.pyspark.driver.python", "spark.r.command", "spark.r.driver.command",
            // Where Spark writes on the server's disk.
            "spark.jars.ivy", "spark.local.dir", "spark.eventLog.dir", "spark.driver.log.localDir",
            // A JVM class path in a string (Hive metastore jars), metrics sinks writing files.
            "spark.sql.hive.metastore.jars", "spark.metrics.conf*"))
            .describedAs("see the [template](conf/sparkgate.conf.template)");
    public static final ConfigKey<List<String>> ALLOWED_CONF = ConfigKey.of("sparkgate.submit.allowed-conf",
            Type.LIST, "when set, the only conf keys a request may set (`*` suffix = prefix)").withDefault("");
    public static final ConfigKey<Map<String, String>> FORCED_CONF = ConfigKey.prefix("sparkgate.submit.forced-conf.",
            "spark.key", "Spark property the operator sets for every batch; a request may not change it");
    public static final ConfigKey<Integer> MAX_ARGS = ConfigKey.of("sparkgate.submit.max-args", Type.INT,
            "most application arguments").withDefault("1000");
    public static final ConfigKey<Integer> MAX_CONF_ENTRIES = ConfigKey.of("sparkgate.submit.max-conf-entries",
            Type.INT, "most `conf` entries").withDefault("200");
    public static final ConfigKey<Integer> MAX_LIST_ENTRIES = ConfigKey.of("sparkgate.submit.max-list-entries",
            Type.INT, "most entries in each of `jars`, `pyFiles`, `files`, `archives`").withDefault("100");
    public static final ConfigKey<Integer> MAX_STRING_LENGTH = ConfigKey.of("sparkgate.submit.max-string-length",
            Type.INT, "longest name, path, conf key or conf value").withDefault("4096");
    public static final ConfigKey<Integer> MAX_ARG_LENGTH = ConfigKey.of("sparkgate.submit.max-arg-length",
            Type.INT, "longest application argument").withDefault("65536");

    // --- Authentication and TLS ---------------------------------------------------------------------
    public static final ConfigKey<String> AUTH_MODE = ConfigKey.of("sparkgate.auth.mode", Type.STRING,
            "how callers prove who they are: `none`, `basic`, `bearer`, `mtls` or `kerberos`").withDefault("none")
            .withLivyName("livy.server.auth.type");
    public static final ConfigKey<String> USERS_FILE = ConfigKey.of("sparkgate.auth.basic.users-file",
            Type.STRING, "`user:<BCrypt hash>` lines, mode `basic`");
    public static final ConfigKey<String> TOKENS_FILE = ConfigKey.of("sparkgate.auth.bearer.tokens-file",
            Type.STRING, "`user:<SHA-256 hex>` lines, mode `bearer`");
    public static final ConfigKey<String> JWT_PUBLIC_KEY_FILE = ConfigKey.of("sparkgate.auth.jwt.public-key-file",
            Type.STRING, "the JWT issuer's public key (PEM), mode `bearer`");
    public static final ConfigKey<String> JWT_JWKS_FILE = ConfigKey.of("sparkgate.auth.jwt.jwks-file",
            Type.STRING, "the JWT issuer's JWK set, mode `bearer`");
    public static final ConfigKey<String> JWT_ISSUER = ConfigKey.of("sparkgate.auth.jwt.issuer", Type.STRING,
            "the `iss` a JWT must have");
    public static final ConfigKey<String> JWT_AUDIENCE = ConfigKey.of("sparkgate.auth.jwt.audience", Type.STRING,
            "when set, a JWT's `aud` must contain it");
    public static final ConfigKey<String> JWT_USER_CLAIM = ConfigKey.of("sparkgate.auth.jwt.user-claim",
            Type.STRING, "the JWT claim that names the user").withDefault("sub");
    public static final ConfigKey<Duration> JWT_CLOCK_SKEW = ConfigKey.of("sparkgate.auth.jwt.clock-skew",
            Type.DURATION, "how far a JWT's `exp` / `nbf` may be off").withDefault("60s");
    public static final ConfigKey<String> KERBEROS_PRINCIPAL = ConfigKey.of("sparkgate.auth.kerberos.principal",
            Type.STRING, "the server's `HTTP/<host>@REALM` (`_HOST` = this host's FQDN; `*` = any principal of the keytab)")
            .withLivyName("livy.server.auth.kerberos.principal");
    public static final ConfigKey<String> KERBEROS_KEYTAB = ConfigKey.of("sparkgate.auth.kerberos.keytab", Type.STRING,
            "the keytab of the server's principal, mode `kerberos`").withLivyName("livy.server.auth.kerberos.keytab");
    public static final ConfigKey<String> KERBEROS_NAME_RULES = ConfigKey.of("sparkgate.auth.kerberos.name-rules",
            Type.STRING, "principal → user name rules in Hadoop's `hadoop.security.auth_to_local` language, mode `kerberos`")
            .withDefault("DEFAULT").withLivyName("livy.server.auth.kerberos.name-rules");
    public static final ConfigKey<String> TLS_CERT_FILE = ConfigKey.of("sparkgate.tls.cert-file", Type.STRING,
            "the port's certificate chain (PEM); with the key file the port serves TLS only");
    public static final ConfigKey<String> TLS_KEY_FILE = ConfigKey.of("sparkgate.tls.key-file", Type.STRING,
            "the port's private key (PEM, unencrypted PKCS#8)");
    public static final ConfigKey<String> TLS_CLIENT_CA_FILE = ConfigKey.of("sparkgate.tls.client-ca-file",
            Type.STRING, "the CA(s) client certificates must chain to (PEM)");
    public static final ConfigKey<String> TLS_CLIENT_AUTH = ConfigKey.of("sparkgate.tls.client-auth", Type.STRING,
            "whether a client certificate is asked for: `none`, `optional` or `require`")
            .withComputedDefault("`require` in mode `mtls`, `optional` otherwise");

    // --- Admission ----------------------------------------------------------------------------------
    public static final ConfigKey<Integer> MAX_STARTING = ConfigKey.of("sparkgate.admission.max-starting",
            Type.INT, "batches starting at once; also the threads calling `spark-submit`")
            .withDefault("2").withOldName("sparkgate.launch.threads");
    public static final ConfigKey<Integer> MAX_STARTING_PER_USER = ConfigKey.of(
            "sparkgate.admission.max-starting-per-user", Type.INT, "batches of one user starting at once")
            .withDefault("0").describedAs("`0` (none)");
    public static final ConfigKey<Integer> MAX_RUNNING = ConfigKey.of("sparkgate.admission.max-running", Type.INT,
            "batches running or starting at once").withDefault("0").describedAs("`0` (none)");
    public static final ConfigKey<Integer> MAX_RUNNING_PER_USER = ConfigKey.of(
            "sparkgate.admission.max-running-per-user", Type.INT, "batches of one user running or starting at once")
            .withDefault("0").describedAs("`0` (none)");
    public static final ConfigKey<Integer> MAX_WAITING = ConfigKey.of("sparkgate.admission.max-waiting", Type.INT,
            "batches that may wait; then creates are refused (`0`: none may wait)")
            .withDefault("100").withOldName("sparkgate.launch.queue-size");
    public static final ConfigKey<Duration> RETRY_AFTER = ConfigKey.of("sparkgate.admission.retry-after",
            Type.DURATION, "`Retry-After` of a refused create").withDefault("5s");

    // --- Replicas (servers sharing one PostgreSQL database) ------------------------------------------
    public static final ConfigKey<String> REPLICA_ID = ConfigKey.of("sparkgate.replica.id", Type.STRING,
            "this replica's name in the database, unique among the servers on it (PostgreSQL only, refused with "
            + "H2; see [Running several servers](#running-several-servers))")
            .withComputedDefault("host name + pid");
    public static final ConfigKey<Duration> REPLICA_LEASE_TTL = ConfigKey.of("sparkgate.replica.lease-ttl",
            Type.DURATION, "how long a lease lasts without renewal").withDefault("15s");
    public static final ConfigKey<Duration> REPLICA_RENEW_INTERVAL = ConfigKey.of("sparkgate.replica.renew-interval",
            Type.DURATION, "how often a replica renews its leases (at most half the TTL)").withDefault("5s");
    public static final ConfigKey<Duration> REPLICA_SCAN_INTERVAL = ConfigKey.of("sparkgate.replica.scan-interval",
            Type.DURATION, "how often a replica looks for batches nobody holds").withDefault("1s");

    // --- Operations ---------------------------------------------------------------------------------
    public static final ConfigKey<Boolean> METRICS_AUTHENTICATE = ConfigKey.of("sparkgate.metrics.authenticate",
            Type.BOOLEAN, "whether `/metrics` needs the API's credentials (probes never do)").withDefault("false");
    public static final ConfigKey<Duration> DRAIN_GRACE = ConfigKey.of("sparkgate.drain.grace", Type.DURATION,
            "on SIGTERM: not ready, still serving, for this long (see [Operations](#operations))").withDefault("5s");
    public static final ConfigKey<Duration> DRAIN_TIMEOUT = ConfigKey.of("sparkgate.drain.timeout", Type.DURATION,
            "then: longest wait for calls in flight before exiting").withDefault("30s");
    public static final ConfigKey<Boolean> ACCESS_LOG = ConfigKey.of("sparkgate.access-log.enabled", Type.BOOLEAN,
            "one line per request to `<log dir>/access.log`, asynchronously").withDefault("false");

    /** Every key above, in the order declared. */
    public static final List<ConfigKey<?>> ALL = declared();

    private static List<ConfigKey<?>> declared() {
        List<ConfigKey<?>> keys = new ArrayList<>();
        for (Field f : ConfigKeys.class.getDeclaredFields()) {
            if (f.getType() == ConfigKey.class && Modifier.isStatic(f.getModifiers())) {
                try {
                    keys.add((ConfigKey<?>) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return List.copyOf(keys);
    }
}
