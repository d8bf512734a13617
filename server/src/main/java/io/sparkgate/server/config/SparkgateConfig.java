package io.sparkgate.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Everything the server is configured with, built once at start by {@link ConfigLoader} and passed in.
 *
 * @param host address the server binds to
 * @param port port of the one server socket (gRPC, REST, docs); 0 picks a free port
 * @param dataDir where batch logs and the batch store live
 * @param home where the server is installed ({@link Installation#home()})
 * @param maxRequestSize largest request body in bytes (413 / RESOURCE_EXHAUSTED beyond it)
 * @param csrfProtection whether non-GET HTTP requests need an {@code X-Requested-By} header (Livy's CSRF mode)
 * @param sparkHome the Spark home whose {@code bin/spark-submit} runs every batch
 * @param sparkMaster the master every batch is submitted to, e.g. {@code local[*]}
 * @param killGracePeriod time between SIGTERM and SIGKILL when a batch is killed
 * @param sparkConf {@code spark.*} properties applied to every batch before the request's own
 * @param store the batch database
 * @param deadlines retention and the deadline of each non-final state
 * @param yarn how to reach YARN; used when {@code sparkMaster} is {@code yarn}
 * @param auth who the caller is: authentication mode, credentials, TLS
 * @param access what an authenticated caller may do: impersonation, other users' batches
 * @param submit what a request may ask to run: paths, schemes, conf keys, sizes
 * @param admission how many batches may start and run at once, globally and per user
 * @param ops metrics access, drain on SIGTERM, access log
 * @param replicas how this server shares batches with others on one PostgreSQL database (leases)
 */
public record SparkgateConfig(
        String host,
        int port,
        Path dataDir,
        Path home,
        long maxRequestSize,
        boolean csrfProtection,
        Path sparkHome,
        String sparkMaster,
        Duration killGracePeriod,
        Map<String, String> sparkConf,
        StoreSettings store,
        DeadlineSettings deadlines,
        YarnSettings yarn,
        AuthSettings auth,
        AccessSettings access,
        SubmitSettings submit,
        AdmissionSettings admission,
        OpsSettings ops,
        ReplicaSettings replicas) {

    public SparkgateConfig {
        requireNonNull(store, "store");
        requireNonNull(deadlines, "deadlines");
        requireNonNull(home, "home");
        requireNonNull(host, "host");
        requireNonNull(dataDir, "dataDir");
        requireNonNull(sparkHome, "sparkHome");
        requireNonNull(sparkMaster, "sparkMaster");
        requireNonNull(killGracePeriod, "killGracePeriod");
        sparkConf = Map.copyOf(requireNonNull(sparkConf, "sparkConf"));
        requireNonNull(yarn, "yarn");
        requireNonNull(auth, "auth");
        requireNonNull(access, "access");
        requireNonNull(submit, "submit");
        requireNonNull(admission, "admission");
        requireNonNull(ops, "ops");
        requireNonNull(replicas, "replicas");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (maxRequestSize < 1) {
            throw new IllegalArgumentException("bad value for " + ConfigKeys.MAX_REQUEST_SIZE
                    + ": must be >= 1, got " + maxRequestSize);
        }
    }


    /** Whether batches run on YARN (cluster deploy mode) rather than in local processes. */
    public boolean onYarn() {
        return sparkMaster.equals("yarn");
    }
}
