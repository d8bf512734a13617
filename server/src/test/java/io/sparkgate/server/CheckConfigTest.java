package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** An operator checks a configuration before a restart: {@code sparkgate check-config}. */
class CheckConfigTest {

    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {}

    @Test
    void printsEveryValueWithItsSourceAndMasksSecrets() throws Exception {
        Path file = dir.resolve("sparkgate.conf");
        Files.writeString(file, """
                livy.server.port = 9000
                sparkgate.store.url = jdbc:postgresql://db:5432/sparkgate?user=sg&password=hunter2
                sparkgate.store.password = s3cret
                sparkgate.admission.max-running = 4
                sparkgate.spark-conf.spark.ssl.keyPassword = k3y
                livy.server.session.timeout = 1h
                """);

        Run run = checkConfig("--config", file.toString(), "--host", "127.0.0.2");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .contains("Configuration is valid")
                .contains("sparkgate.server.port = 9000    (file " + file + ", as livy.server.port)")
                .contains("sparkgate.server.host = 127.0.0.2    (flag)")
                .contains("sparkgate.admission.max-running = 4    (file " + file + ")")
                .contains("sparkgate.store.password = ******")
                .contains("password=******")
                .contains("livy.server.session.timeout    (file " + file + ")")
                // Left at defaults, and what they are.
                .contains("Defaults (not set):")
                .contains("  sparkgate.retention\n")
                .contains("deadlines.retention = 7d")
                .contains("admission.maxStarting = 2")
                .contains("port = 9000")
                .doesNotContain("hunter2")
                .doesNotContain("s3cret")
                .doesNotContain("k3y");
    }

    @Test
    void aBadValueOrAnUnknownKeyIsNamedAndFails() throws Exception {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "sparkgate.admission.max-starting = many\n");
        Run bad = checkConfig("--config", file.toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("invalid configuration").contains("sparkgate.admission.max-starting")
                .contains("many");

        Files.writeString(file, "sparkgate.drain.grace-period = 5s\n");
        Run unknown = checkConfig("--config", file.toString());
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown configuration key 'sparkgate.drain.grace-period'");

        Run missing = checkConfig("--config", dir.resolve("absent.conf").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("config file not found");
    }

    private static Run checkConfig(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] argv = new String[args.length + 1];
        argv[0] = "check-config";
        System.arraycopy(args, 0, argv, 1, args.length);
        int code = cl.execute(argv);
        return new Run(code, out.toString(), err.toString());
    }
}
