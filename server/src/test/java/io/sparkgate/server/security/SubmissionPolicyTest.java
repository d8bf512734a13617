package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.config.ConfigLoader;
import io.sparkgate.server.config.SparkgateConfig;
import io.sparkgate.server.config.SubmitSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The submission rules on their own: temp directories with symlinks, no server. */
class SubmissionPolicyTest {

    @TempDir
    Path tmp;

    Path allowed;
    Path outside;
    Path jar;
    SubmissionPolicy policy;

    @BeforeEach
    void layout() throws Exception {
        allowed = Files.createDirectories(tmp.resolve("allowed"));
        outside = Files.createDirectories(tmp.resolve("outside"));
        jar = Files.writeString(allowed.resolve("app.jar"), "jar");
        Files.writeString(outside.resolve("secret.txt"), "secret");
        Files.createSymbolicLink(allowed.resolve("escape.txt"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(allowed.resolve("escape-dir"), outside);
        Files.createSymbolicLink(allowed.resolve("inner-link.jar"), jar);
        policy = policy(Map.of());
    }

    private SubmissionPolicy policy(Map<String, String> keys) {
        Map<String, String> values = new HashMap<>(keys);
        values.putIfAbsent(ConfigKeys.LOCAL_DIRS.name(), allowed.toString());
        return new SubmissionPolicy(ConfigLoader.fromMap(values).submit());
    }

    private BatchRequest check(BatchRequest r) {
        return policy.check(r, Caller.ANONYMOUS);
    }

    private AbstractThrowableAssert<?, ?> refused(BatchRequest r) {
        return assertThatThrownBy(() -> check(r)).isInstanceOf(InvalidBatchRequestException.class);
    }

    private BatchRequest app() {
        return BatchRequest.of(jar.toString());
    }

    private static BatchRequest withLists(BatchRequest r, List<String> jars, List<String> files) {
        return new BatchRequest(r.file(), r.className(), r.proxyUser(), r.name(), r.args(), jars, List.of(),
                files, List.of(), r.driverMemory(), r.driverCores(), r.executorMemory(), r.executorCores(),
                r.numExecutors(), r.queue(), r.conf());
    }

    private static BatchRequest withFields(String proxyUser, String driverMemory, String queue) {
        BatchRequest r = BatchRequest.of("/x");
        return new BatchRequest(r.file(), "", proxyUser, "", List.of(), List.of(), List.of(), List.of(), List.of(),
                driverMemory, OptionalInt.empty(), "", OptionalInt.empty(), OptionalInt.empty(), queue, Map.of());
    }

    @Test
    void filesInsideTheAllowedDirectoryPassUnchanged() {
        BatchRequest r = withLists(app(), List.of(jar.toString(), "file:" + jar, "local:" + jar),
                List.of(allowed.resolve("inner-link.jar") + "," + jar));
        assertThat(check(r)).isEqualTo(r);
    }

    @Test
    void traversalAndFileTricksAreRefusedNamingTheField() {
        refused(BatchRequest.of(allowed + "/../outside/secret.txt")).hasMessageContaining("'file'")
                .hasMessageContaining("outside the directories");
        refused(BatchRequest.of("file:/etc/passwd")).hasMessageContaining("'file'");
        refused(BatchRequest.of("file://" + allowed + "/../../../../etc/passwd")).hasMessageContaining("'file'");
        refused(BatchRequest.of("file:" + allowed + "/../../../../etc/passwd")).hasMessageContaining("outside");
        refused(BatchRequest.of("file:" + allowed + "/%2e%2e/outside/secret.txt")).hasMessageContaining("outside");
        refused(BatchRequest.of("local:/etc/passwd")).hasMessageContaining("outside");
        refused(BatchRequest.of("/etc/passwd")).hasMessageContaining("outside");
        refused(BatchRequest.of("file:etc/passwd")).hasMessageContaining("absolute");
        refused(BatchRequest.of("file://localhost" + jar)).hasMessageContaining("without a host");
        // Spark reads a #fragment path as a URI: decoded.
        refused(withLists(app(), List.of(), List.of(allowed + "/%2e%2e/outside/secret.txt#alias")))
                .hasMessageContaining("'files[0]'").hasMessageContaining("outside");
        // Commas inside one entry are two paths to spark-submit.
        refused(withLists(app(), List.of(jar + ", /etc/passwd"), List.of())).hasMessageContaining("'jars[0]'")
                .hasMessageContaining("/etc/passwd");
        refused(withLists(app(), List.of(allowed + "/*.jar"), List.of())).hasMessageContaining("glob");
        refused(withLists(app(), List.of(allowed + "/{app.jar,../outside/secret.txt}"), List.of()))
                .hasMessageContaining("glob");
    }

    @Test
    void symlinksAreFollowedToWhereTheyLead() {
        refused(BatchRequest.of(allowed.resolve("escape.txt").toString())).hasMessageContaining("symbolic link");
        refused(BatchRequest.of(allowed.resolve("escape-dir/secret.txt").toString()))
                .hasMessageContaining("symbolic link");
        assertThat(check(BatchRequest.of(allowed.resolve("inner-link.jar").toString())).file())
                .isEqualTo(allowed.resolve("inner-link.jar").toString());
    }

    @Test
    void anAllowedDirectoryReachedThroughASymlinkWorksBothWays() throws Exception {
        Path link = Files.createSymbolicLink(tmp.resolve("via-link"), allowed);
        SubmissionPolicy viaLink = policy(Map.of(ConfigKeys.LOCAL_DIRS.name(), link.toString()));
        viaLink.check(BatchRequest.of(link.resolve("app.jar").toString()), Caller.ANONYMOUS);
        viaLink.check(BatchRequest.of(jar.toString()), Caller.ANONYMOUS);
    }

    @Test
    void aMissingLocalFileIsA400SayingSo() {
        refused(BatchRequest.of(allowed.resolve("nope.jar").toString())).hasMessageContaining("does not exist");
    }

    @Test
    void relativePathsResolveAgainstTheServersWorkingDirectoryAndAreSentAbsolute() {
        Path cwd = Path.of("").toAbsolutePath();
        SubmissionPolicy here = policy(Map.of(ConfigKeys.LOCAL_DIRS.name(), cwd.toString()));
        // The server module's pom.xml is in the working directory of the tests.
        BatchRequest checked = here.check(withLists(BatchRequest.of("pom.xml"), List.of("pom.xml"),
                List.of("pom.xml#p")), Caller.ANONYMOUS);
        assertThat(checked.file()).isEqualTo(cwd.resolve("pom.xml").toString());
        assertThat(checked.jars()).containsExactly(cwd.resolve("pom.xml").toString());
        assertThat(checked.files()).containsExactly("file:" + cwd.resolve("pom.xml") + "#p");
        // spark-internal and friends are no escape hatch: relative names that do not exist.
        refused(BatchRequest.of("spark-internal")).hasMessageContaining("'file'");
    }

    @Test
    void remoteSchemesByAllowList() {
        check(withLists(BatchRequest.of("hdfs:///apps/app.jar"), List.of("s3a://b/x.jar", "https://h/x.jar"),
                List.of("gs://b/f", "abfss://c@a.dfs.core.windows.net/f")));
        refused(BatchRequest.of("http://evil.example/app.jar")).hasMessageContaining("scheme 'http'");
        refused(BatchRequest.of("ftp://h/app.jar")).hasMessageContaining("'ftp'");
        refused(withLists(app(), List.of("ivy://g:a:1"), List.of())).hasMessageContaining("'ivy'");
        SubmissionPolicy onlyHdfs = policy(Map.of(ConfigKeys.REMOTE_SCHEMES.name(), "hdfs"));
        assertThatThrownBy(() -> onlyHdfs.check(BatchRequest.of("https://h/a.jar"), Caller.ANONYMOUS))
                .hasMessageContaining("'https'");
    }

    @Test
    void pathCarryingConfKeysAreHeldToTheSameRules() {
        for (String key : List.of("spark.jars", "spark.files", "spark.submit.pyFiles", "spark.archives",
                "spark.yarn.dist.jars", "spark.yarn.dist.files", "spark.yarn.dist.archives", "spark.yarn.dist.pyFiles",
                "spark.jars.ivySettings", "spark.driver.resource.gpu.discoveryScript",
                "spark.executor.resource.gpu.discoveryScript", "spark.ssl.keyStore", "spark.metrics.conf")) {
            BatchRequest bad = app().withConf(Map.of(key, jar + ",file:/etc/passwd"));
            if (key.equals("spark.metrics.conf")) {
                refused(bad).hasMessageContaining(key); // denied outright by default
                continue;
            }
            refused(bad).hasMessageContaining(key).hasMessageContaining("/etc/passwd");
            check(app().withConf(Map.of(key, jar.toString())));
        }
    }

    @Test
    void deniedConfKeysAreRefusedByName() {
        for (String key : List.of("spark.master", "spark.submit.deployMode", "spark.yarn.jars", "spark.yarn.archive",
                "spark.driver.extraClassPath", "spark.executor.extraClassPath", "spark.driver.extraJavaOptions",
                "spark.driver.extraLibraryPath", "spark.executor.extraLibraryPath", "spark.kerberos.keytab",
                "spark.kerberos.principal", "spark.yarn.keytab", "spark.yarn.principal", "spark.pyspark.python",
                "spark.metrics.conf.driver.sink.csv.directory")) {
            refused(app().withConf(Map.of(key, "x"))).hasMessageContaining(key);
        }
        // Left allowed on purpose: executors run on the cluster, where the user's code runs anyway.
        check(app().withConf(Map.of("spark.executor.extraJavaOptions", "-XX:+UseG1GC")));
    }

    @Test
    void theServersYarnTagsCannotBeBorrowed() {
        // The YARN tracker finds a batch's application by its sparkgate-batch-<id>-<random> tag.
        refused(app().withConf(Map.of("spark.yarn.tags", "nightly, SparkGate-batch-3-abc")))
                .hasMessageContaining("spark.yarn.tags")
                .hasMessageContaining("SparkGate-batch-3-abc");
        check(app().withConf(Map.of("spark.yarn.tags", "nightly,team-a")));
    }

    @Test
    void aFieldIsTheConfKeyItSets() {
        SubmissionPolicy p = policy(Map.of(ConfigKeys.DENIED_CONF.name(), "spark.driver.memory"));
        BatchRequest r = new BatchRequest(jar.toString(), "", "", "", List.of(), List.of(), List.of(), List.of(),
                List.of(), "4g", OptionalInt.empty(), "", OptionalInt.empty(), OptionalInt.empty(), "", Map.of());
        assertThatThrownBy(() -> p.check(r, Caller.ANONYMOUS)).hasMessageContaining("driverMemory")
                .hasMessageContaining("spark.driver.memory");
    }

    @Test
    void allowListWithPrefixes() {
        SubmissionPolicy p = policy(Map.of(ConfigKeys.ALLOWED_CONF.name(), "spark.sql.*, spark.executor.memory"));
        p.check(app().withConf(Map.of("spark.sql.shuffle.partitions", "4", "spark.executor.memory", "1g")),
                Caller.ANONYMOUS);
        assertThatThrownBy(() -> p.check(app().withConf(Map.of("spark.executor.cores", "2")), Caller.ANONYMOUS))
                .hasMessageContaining("spark.executor.cores").hasMessageContaining("allowed-conf");
        // The deny-list still applies to keys the allow-list would let through.
        SubmissionPolicy both = policy(Map.of(ConfigKeys.ALLOWED_CONF.name(), "spark.*"));
        assertThatThrownBy(() -> both.check(app().withConf(Map.of("spark.master", "yarn")), Caller.ANONYMOUS))
                .hasMessageContaining("spark.master");
    }

    @Test
    void forcedValuesAreAppliedAndARequestCannotChangeThem() {
        SubmissionPolicy p = policy(Map.of(ConfigKeys.FORCED_CONF.name() + "spark.eventLog.enabled", "true",
                ConfigKeys.FORCED_CONF.name() + "spark.yarn.queue", "etl"));
        assertThat(p.check(app(), Caller.ANONYMOUS).conf())
                .containsEntry("spark.eventLog.enabled", "true").containsEntry("spark.yarn.queue", "etl");
        assertThat(p.check(app().withConf(Map.of("spark.eventLog.enabled", "true")), Caller.ANONYMOUS).conf())
                .containsEntry("spark.eventLog.enabled", "true");
        assertThatThrownBy(() -> p.check(app().withConf(Map.of("spark.eventLog.enabled", "false")), Caller.ANONYMOUS))
                .hasMessageContaining("spark.eventLog.enabled");
        BatchRequest otherQueue = new BatchRequest(jar.toString(), "", "", "", List.of(), List.of(), List.of(),
                List.of(), List.of(), "", OptionalInt.empty(), "", OptionalInt.empty(), OptionalInt.empty(), "adhoc",
                Map.of());
        assertThatThrownBy(() -> p.check(otherQueue, Caller.ANONYMOUS)).hasMessageContaining("'queue'")
                .hasMessageContaining("spark.yarn.queue");
        assertThatThrownBy(() -> policy(Map.of(ConfigKeys.FORCED_CONF.name() + "spark.master", "yarn")))
                .hasMessageContaining("spark.master");
    }

    @Test
    void limitsOnCountsAndLengths() {
        refused(app().withArgs(Collections.nCopies(1001, "a"))).hasMessageContaining("'args'")
                .hasMessageContaining("1000");
        check(app().withArgs(List.of("x".repeat(65536))));
        refused(app().withArgs(List.of("x".repeat(65537)))).hasMessageContaining("'args[0]'");
        Map<String, String> conf = new HashMap<>();
        for (int i = 0; i < 201; i++) {
            conf.put("spark.x" + i, "v");
        }
        refused(app().withConf(conf)).hasMessageContaining("'conf'").hasMessageContaining("200");
        refused(app().withName("n".repeat(4097))).hasMessageContaining("'name'");
        refused(withLists(app(), Collections.nCopies(101, jar.toString()), List.of())).hasMessageContaining("'jars'");
        refused(withLists(app(), List.of(String.join(",", Collections.nCopies(101, jar.toString()))), List.of()))
                .hasMessageContaining("'jars[0]'");
        SubmissionPolicy small = policy(Map.of(ConfigKeys.MAX_ARGS.name(), "2"));
        assertThatThrownBy(() -> small.check(app().withArgs(List.of("1", "2", "3")), Caller.ANONYMOUS))
                .hasMessageContaining("'args'");
    }

    @Test
    void namesAndFormats() {
        check(app().withClassName("com.example.Main$Inner").withName("Nightly ETL — 2026 ✓"));
        refused(app().withClassName("com.example.Main; rm -rf /")).hasMessageContaining("'className'");
        refused(app().withClassName("-Dx=y")).hasMessageContaining("'className'");
        refused(app().withClassName("org.apache.spark.deploy.SparkSubmit")).hasMessageContaining("'className'");
        refused(app().withName("a\u202Eb")).hasMessageContaining("'name'");
        refused(app().withName("two\nlines")).hasMessageContaining("'name'");
        refused(app().withConf(Map.of("spark.x=y", "v"))).hasMessageContaining("spark.x=y");
        refused(app().withConf(Map.of("spark x", "v"))).hasMessageContaining("'conf' key");
        for (String bad : List.of("2 g", "1.5g", "-1g", "2gigs", "$(id)")) {
            assertThatThrownBy(() -> check(withFields("", bad, "").withConf(Map.of())))
                    .hasMessageContaining("driverMemory");
        }
        for (String good : List.of("512m", "2g", "2G", "1024", "4gb")) {
            BatchRequest r = withFields("", good, "");
            assertThat(r.driverMemory()).isEqualTo(good);
            assertThatThrownBy(() -> check(r)).hasMessageNotContaining("driverMemory"); // fails on file "/x" only
        }
        assertThatThrownBy(() -> check(withFields("", "", "root..x"))).hasMessageContaining("'queue'");
        assertThatThrownBy(() -> check(withFields("", "", "root.etl"))).hasMessageNotContaining("'queue'");
        assertThatThrownBy(() -> check(withFields("alice; id", "", ""))).hasMessageContaining("'proxyUser'");
        assertThatThrownBy(() -> check(withFields("alice@EXAMPLE.COM", "", ""))).hasMessageNotContaining("proxyUser");
    }

    @Test
    void controlCharactersOnlyWhereTheyCanMeanSomething() {
        refused(app().withArgs(List.of("a\u0000b"))).hasMessageContaining("NUL");
        refused(app().withConf(Map.of("spark.x", "a\u0000b"))).hasMessageContaining("NUL");
        refused(BatchRequest.of(jar + "\u0000")).hasMessageContaining("NUL");
        refused(app().withArgs(List.of("bell\u0007"))).hasMessageContaining("U+0007");
        refused(withLists(app(), List.of(jar + "\n"), List.of())).hasMessageContaining("jars[0]");
        check(app().withArgs(List.of("tab\tnew\nline\r")).withConf(Map.of("spark.x", "a\tb\nc")));
    }

    @Test
    void noLocalDirectoriesMeansNoLocalFiles() {
        SubmissionPolicy none = policy(Map.of(ConfigKeys.LOCAL_DIRS.name(), ""));
        assertThatThrownBy(() -> none.check(app(), Caller.ANONYMOUS)).hasMessageContaining("outside");
        none.check(BatchRequest.of("hdfs:///a.jar"), Caller.ANONYMOUS);
    }

    @Test
    void livyAliasesAndDefaults() {
        SparkgateConfig livyConfig = ConfigLoader.fromMap(Map.of("livy.file.local-dir-whitelist", allowed + ",/opt/jobs",
                "livy.server.csrf-protection.enabled", "true"));
        assertThat(livyConfig.submit().localDirs()).containsExactly(allowed, Path.of("/opt/jobs"));
        assertThat(livyConfig.csrfProtection()).isTrue();
        SparkgateConfig defaults = ConfigLoader.fromMap(Map.of());
        SubmitSettings d = defaults.submit();
        assertThat(d.localDirs()).containsExactly(Path.of("examples").toAbsolutePath().normalize());
        assertThat(d.remoteSchemes()).containsExactlyInAnyOrder("hdfs", "s3a", "gs", "abfss", "https");
        assertThat(defaults.maxRequestSize()).isEqualTo(1 << 20);
        assertThat(defaults.csrfProtection()).isFalse();
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.MAX_REQUEST_SIZE.name(), "big")))
                .hasMessageContaining(ConfigKeys.MAX_REQUEST_SIZE.name());
        assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of(ConfigKeys.REMOTE_SCHEMES.name(), "hdfs,file")))
                .hasMessageContaining("file");
        assertThat(ConfigLoader.fromMap(Map.of(ConfigKeys.MAX_REQUEST_SIZE.name(), "64k")).maxRequestSize())
                .isEqualTo(65536);
    }
}
