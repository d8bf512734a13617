package io.sparkgate.server.yarn;

import io.sparkgate.server.values.Text;

import com.linecorp.armeria.common.util.ThreadFactories;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.config.SparkgateConfig;
import io.sparkgate.server.launch.LaunchException;
import io.sparkgate.server.launch.LaunchListener;
import io.sparkgate.server.launch.LaunchedApp;
import io.sparkgate.server.launch.RecordedLaunch;
import io.sparkgate.server.launch.SparkSubmitLauncher;
import io.sparkgate.server.launch.Launcher;
import io.sparkgate.server.launch.SparkSubmitCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.launcher.SparkLauncher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs batches on YARN in cluster deploy mode. {@code spark-submit} only submits
 * ({@code spark.yarn.submit.waitAppCompletion=false}) and exits; from then on the batch follows its
 * application through the shared {@link YarnTracker}, which finds it by the batch's tag
 * ({@code spark.yarn.tags}). A batch's state is YARN's, never the submitter's: a kill through YARN looks
 * like a failure to {@code spark-submit}.
 *
 * <p>The batch log holds, in order: {@code spark-submit}'s own output (written by the process, as in
 * local mode), then the driver's stdout and stderr, fetched from the ApplicationMaster container through
 * the NodeManager's web service while the application runs and once more when it has ended, each line
 * prefixed {@value DriverLog#STDOUT_PREFIX} or {@value DriverLog#STDERR_PREFIX}; and, when it failed,
 * YARN's diagnostics. Lines of Sparkgate's own start with {@link Text#NOTICE}.
 */
public final class YarnLauncher implements Launcher, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(YarnLauncher.class);

    /** The batch-directory file that keeps the batch's YARN tag, for re-attaching after a restart. */
    public static final String TAG_FILE = "yarn-tag";

    /** Set by the server for every YARN batch; a request's values are replaced (tags: added to). */
    static final String TAGS = "spark.yarn.tags";
    static final String WAIT_APP_COMPLETION = "spark.yarn.submit.waitAppCompletion";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final SparkgateConfig config;
    private final ScheduledExecutorService scheduler;
    private final YarnTracker tracker;
    private final ScheduledExecutorService logThread;
    private final Set<YarnApp> apps = ConcurrentHashMap.newKeySet();
    /** The cluster's aggregated logs, when its configuration turns log aggregation on. */
    private final Optional<AggregatedLogs> aggregatedLogs;

    YarnLauncher(SparkgateConfig config, ScheduledExecutorService scheduler, YarnTracker tracker) {
        this(config, scheduler, tracker, Optional.empty());
    }

    private YarnLauncher(SparkgateConfig config, ScheduledExecutorService scheduler, YarnTracker tracker,
                         Optional<AggregatedLogs> aggregatedLogs) {
        this.aggregatedLogs = requireNonNull(aggregatedLogs, "aggregatedLogs");
        this.config = requireNonNull(config, "config");
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.tracker = requireNonNull(tracker, "tracker");
        // One thread for the driver logs of all batches, as the log tailer and the tracker.
        this.logThread = Executors.newSingleThreadScheduledExecutor(ThreadFactories.newThreadFactory("sparkgate-yarn-driver-logs", true));
        long millis = Math.max(200, config.yarn().pollInterval().toMillis());
        logThread.scheduleWithFixedDelay(this::stepAll, millis, millis, TimeUnit.MILLISECONDS);
    }

    /**
     * A launcher with its own tracker and YarnClient, configured from {@code config.yarn()}; on a
     * kerberized cluster, logged in from the server's keytab first (the YarnClient and the log readers
     * act as that login).
     */
    public static YarnLauncher start(SparkgateConfig config, ScheduledExecutorService scheduler) {
        return start(config, scheduler, java.util.function.UnaryOperator.identity());
    }

    /** Like {@link #start(SparkgateConfig, ScheduledExecutorService)}, its RM calls through {@code wrap} (metrics). */
    public static YarnLauncher start(SparkgateConfig config, ScheduledExecutorService scheduler,
                                     java.util.function.UnaryOperator<ResourceManagerClient> wrap) {
        config.yarn().login().ifPresent(login -> KerberosLogin.start(login,
                YarnResourceManager.hadoopConfiguration(config.yarn()), scheduler, KerberosLogin.CHECK_INTERVAL));
        ResourceManagerClient rm = wrap.apply(YarnResourceManager.connect(config.yarn()));
        YarnTracker tracker = new YarnTracker(rm, config.yarn().pollInterval(), config.yarn().appLookupTimeout(),
                Clock.systemUTC());
        return new YarnLauncher(config, scheduler, tracker,
                AggregatedLogs.of(YarnResourceManager.hadoopConfiguration(config.yarn())));
    }

    /** A tag no other batch has: {@code sparkgate-batch-<id>-<random>}, lowercase as YARN keeps tags. */
    static String tagOf(int batchId) {
        byte[] random = new byte[4];
        RANDOM.nextBytes(random);
        return (Text.TAG_PREFIX + "batch-" + batchId + "-" + HexFormat.of().formatHex(random)).toLowerCase(Locale.ROOT);
    }

    @Override
    public void check(BatchRequest request) {
        io.sparkgate.server.launch.PySparkSupport.check(config.sparkHome(), request);
    }

    @Override
    public List<String> carriedFiles() {
        return List.of(TAG_FILE, DriverLog.STATE_FILE);
    }

    @Override
    public Optional<String> newTag(int batchId) {
        return Optional.of(tagOf(batchId));
    }

    @Override
    public LaunchedApp launch(int batchId, BatchRequest request, Path workDir, Path outputFile,
                              LaunchListener listener) {
        return launch(batchId, Optional.empty(), request, workDir, outputFile, listener);
    }

    @Override
    public LaunchedApp launch(int batchId, Optional<String> given, BatchRequest request, Path workDir,
                              Path outputFile, LaunchListener listener) {
        SparkSubmitLauncher.requireSparkSubmit(config);
        String tag = given.orElseGet(() -> tagOf(batchId));
        Map<String, String> env = new HashMap<>();
        config.yarn().confDir().ifPresent(dir -> {
            env.put("HADOOP_CONF_DIR", dir.toString());
            env.put("YARN_CONF_DIR", dir.toString());
        });
        // Before the command copies the environment: a proxy user's submission gets a ticket cache.
        Map<String, String> kerberosArgs = config.yarn().login()
                .map(login -> kerberos(login, request, workDir, env)).orElse(Map.of());
        SparkLauncher launcher = SparkSubmitCommand.of(config.sparkHome(), "yarn", yarnRequest(request, tag),
                serverConf(request), workDir, outputFile, env).setDeployMode("cluster");
        kerberosArgs.forEach(launcher::addSparkArg);
        Process submitter;
        try {
            Files.createDirectories(workDir);
            Files.writeString(workDir.resolve(TAG_FILE), tag + "\n");
            submitter = launcher.launch();
        } catch (IOException | RuntimeException e) {
            throw new LaunchException("cannot start spark-submit: " + e.getMessage(), e);
        }
        log.info("batch {}: submitting to YARN with tag {}", batchId, tag);
        return follow(batchId, tag, Optional.empty(), outputFile, listener, submitter);
    }

    /**
     * Re-attaches a batch whose application was submitted before a restart: follows it again by its tag
     * (and its application id when stored), from YARN's current report on. The driver's log continues after
     * the lines the batch already has ({@link DriverLog#STATE_FILE}).
     *
     * @param tag the batch's tag, as {@link #storedTag} reads it from the batch directory
     */
    public LaunchedApp reattach(int batchId, String tag, Optional<String> appId, Path outputFile,
                                LaunchListener listener) {
        requireNonNull(tag, "tag");
        requireNonNull(appId, "appId");
        return follow(batchId, tag, appId, outputFile, listener, null);
    }

    /** Recovery: a batch submitted before a restart is found again by the tag kept in its directory. */
    @Override
    public Optional<LaunchedApp> reattach(RecordedLaunch recorded, LaunchListener listener) {
        // The database's record first: a replica taking the batch over has no batch directory of it.
        return recorded.tag().or(() -> storedTag(recorded.workDir())).map(tag -> reattach(recorded.batchId(), tag,
                Optional.of(recorded.appId()).filter(id -> !id.isEmpty()), recorded.outputFile(), listener));
    }

    /** The tag {@link #launch} kept in a batch directory, if any. */
    public static Optional<String> storedTag(Path workDir) {
        try {
            return Optional.of(Files.readString(workDir.resolve(TAG_FILE)).trim()).filter(t -> !t.isEmpty());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private YarnApp follow(int batchId, String tag, Optional<String> appId, Path outputFile, LaunchListener listener,
                           Process submitter) {
        YarnApp app = new YarnApp(batchId, tag, outputFile, listener, submitter, config.killGracePeriod(), scheduler,
                aggregatedLogs);
        app.tracking = tracker.track(tag, appId, app);
        apps.add(app);
        return app;
    }

    /**
     * How {@code spark-submit} authenticates on a kerberized cluster, so it can obtain the delegation
     * tokens the application needs. Without a proxy user: {@code --principal} / {@code --keytab} (Spark
     * logs in itself and, for a long application, renews the tokens from the keytab). With one, Spark
     * takes the submitter's tickets from a ticket cache (it refuses {@code --principal} with
     * {@code --proxy-user}): the server fills one in the batch directory from its keytab
     * ({@link TicketCache}), and Spark obtains the proxy user's tokens with those tickets.
     *
     * @return the spark-submit options to add; {@code env} gets what the process needs
     */
    static Map<String, String> kerberos(io.sparkgate.server.config.YarnSettings.KerberosLogin login,
                                        BatchRequest request, Path workDir, Map<String, String> env) {
        String krb5Conf = System.getProperty("java.security.krb5.conf");
        if (krb5Conf != null) {
            // The same realm and KDCs as the server, whose JVM was pointed at its krb5.conf.
            env.put("SPARK_SUBMIT_OPTS", "-Djava.security.krb5.conf=" + krb5Conf);
        }
        String principal = KerberosLogin.principal(login);
        if (request.proxyUser().isEmpty()) {
            Map<String, String> args = new java.util.LinkedHashMap<>();
            args.put("--principal", principal);
            args.put("--keytab", login.keytab().toString());
            return args;
        }
        Path cache = TicketCache.fill(new io.sparkgate.server.config.YarnSettings.KerberosLogin(principal,
                login.keytab()), workDir.resolve("krb5cc"));
        env.put("KRB5CCNAME", "FILE:" + cache);
        return Map.of();
    }

    /** The request as submitted: our tag added to its own, and spark-submit returning after the submit. */
    static BatchRequest yarnRequest(BatchRequest request, String tag) {
        Map<String, String> conf = new HashMap<>(request.conf());
        Set<String> tags = new LinkedHashSet<>();
        for (String t : conf.getOrDefault(TAGS, "").split(",")) {
            if (!t.isBlank()) {
                tags.add(t.trim());
            }
        }
        tags.add(tag);
        conf.put(TAGS, String.join(",", tags));
        conf.put(WAIT_APP_COMPLETION, "false");
        return request.withConf(conf);
    }

    /** Server-wide Spark properties for YARN batches, on top of the configured ones. */
    private Map<String, String> serverConf(BatchRequest request) {
        Map<String, String> conf = new HashMap<>(config.sparkConf());
        boolean jarsSet = Set.of("spark.yarn.jars", "spark.yarn.archive").stream()
                .anyMatch(k -> conf.containsKey(k) || request.conf().containsKey(k));
        if (!jarsSet) {
            // Not 200 MB of uploads per batch: every node has this Spark home (true of one machine;
            // a real cluster sets spark.yarn.archive to a copy on HDFS).
            conf.put("spark.yarn.jars", "local:" + config.sparkHome().resolve("jars") + "/*");
        }
        config.yarn().hadoopConf().forEach((k, v) -> conf.putIfAbsent("spark.hadoop." + k, v));
        return conf;
    }

    private void stepAll() {
        for (YarnApp app : apps) {
            try {
                if (app.step()) {
                    apps.remove(app);
                }
            } catch (RuntimeException e) {
                log.warn("batch {}: YARN follow-up failed", app.batchId, e);
            }
        }
    }

    /**
     * How many YARN applications this server follows now (polls the ResourceManager for): its share of
     * the cluster's batches, and none of a batch another replica took over.
     */
    public int applicationsTracked() {
        return tracker.trackedCount();
    }

    @Override
    public void close() {
        logThread.shutdownNow();
        tracker.close();
    }
}
