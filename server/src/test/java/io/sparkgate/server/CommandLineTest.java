package io.sparkgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/** The {@code sparkgate} command line against a real server and real Spark, over gRPC and over REST. */
class CommandLineTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXAMPLES = TestServer.EXAMPLES_JAR.toString();

    @RegisterExtension
    static final TestServer server = new TestServer();


    record Run(int exitCode, String out, String err) {}

    private static Run sparkgate(String... args) {
        List<String> argv = new ArrayList<>(List.of(args));
        argv.add(1, "--server=127.0.0.1:" + server.port());
        return run(argv.toArray(String[]::new));
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void submitFollowPrintsPisResultAndExitsZero() {
        Run run = sparkgate("submit", "--follow", "--class", "io.sparkgate.examples.SparkPi", "--name", "cli-pi",
                EXAMPLES, "4");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("Pi is roughly 3.");
        assertThat(run.err()).contains("ended: success");
    }

    @Test
    void aFailingBatchExitsWithTheDeadCode() {
        Run run = sparkgate("submit", "-f", "--class", "io.sparkgate.examples.FailingApp", EXAMPLES);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("Sparkgate example failure");
    }

    @Test
    void killStopsARunningBatchAndStatusThenSaysNotFound() throws Exception {
        Run submitted = sparkgate("submit", "--json", "--class", "io.sparkgate.examples.SleepingApp", EXAMPLES, "300");
        assertThat(submitted.exitCode()).isZero();
        int id = JSON.readTree(submitted.out()).get("id").asInt();
        await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(
                JSON.readTree(sparkgate("status", "--json", Integer.toString(id)).out()).get("state").asText())
                .isEqualTo("running"));

        Run killed = sparkgate("kill", Integer.toString(id));
        Run status = sparkgate("status", Integer.toString(id));

        assertThat(killed.exitCode()).isZero();
        assertThat(status.exitCode()).isEqualTo(5);
        assertThat(status.err()).contains("Session '" + id + "' not found.");
    }

    @Test
    void listJsonParsesAndTheTableHasAHeader() throws Exception {
        Run submitted = sparkgate("submit", "--json", "--name", "listed", "--class", "io.sparkgate.examples.NumberedLines",
                EXAMPLES, "2");
        assertThat(submitted.exitCode()).as(submitted.err()).isZero();
        int id = JSON.readTree(submitted.out()).get("id").asInt();
        await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(
                JSON.readTree(sparkgate("status", "--json", Integer.toString(id)).out()).get("state").asText())
                .isEqualTo("success"));

        Run listed = sparkgate("list", "--json");
        Run table = sparkgate("list");

        assertThat(listed.exitCode()).isZero();
        JsonNode list = JSON.readTree(listed.out());
        JsonNode mine = null;
        for (JsonNode session : list.get("sessions")) {
            if (session.get("id").asInt() == id) {
                mine = session;
            }
        }
        assertThat(mine).as("batch %d in %s", id, list).isNotNull();
        assertThat(mine.get("state").asText()).isEqualTo("success");
        assertThat(mine.get("name").asText()).isEqualTo("listed");
        assertThat(list.get("total").asInt()).isEqualTo(list.get("sessions").size());
        assertThat(table.exitCode()).isZero();
        assertThat(table.out().lines().findFirst().orElseThrow()).contains("ID", "NAME", "STATE", "APP ID", "AGE");
        assertThat(table.out().lines()).anySatisfy(line -> assertThat(line).startsWith(id + " ").contains("listed", "success"));
    }

    @Test
    void restModeDrivesTheLivyApiTheSameWay() throws Exception {
        Run run = sparkgate("submit", "--rest", "-f", "--class", "io.sparkgate.examples.NumberedLines", EXAMPLES, "3");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("line 0", "line 1", "line 2");
        JsonNode list = JSON.readTree(sparkgate("list", "--rest", "--json").out());
        assertThat(list.get("sessions").isArray()).isTrue();
        Run logs = sparkgate("logs", "--rest", "0");
        assertThat(logs.exitCode()).isZero();
        Run unknown = sparkgate("status", "--rest", "999999");
        assertThat(unknown.exitCode()).isEqualTo(5);
        assertThat(unknown.err()).contains("Session '999999' not found.");
    }

    @Test
    void submittingAgainWithTheSameRequestIdGivesTheSameBatch() throws Exception {
        String[] submit = {"submit", "--json", "--request-id", "cli-once", "--class", "io.sparkgate.examples.NumberedLines",
                           EXAMPLES, "1"};
        int first = JSON.readTree(sparkgate(submit).out()).get("id").asInt();
        int second = JSON.readTree(sparkgate(submit).out()).get("id").asInt();
        List<String> restSubmit = new ArrayList<>(List.of(submit));
        restSubmit.add(1, "--rest");
        int third = JSON.readTree(sparkgate(restSubmit.toArray(String[]::new)).out()).get("id").asInt();

        assertThat(second).isEqualTo(first);
        assertThat(third).isEqualTo(first);
    }

    @Test
    void badFlagsUnknownIdsAndADownServerHaveTheirOwnCodes() throws Exception {
        assertThat(sparkgate("submit", "--no-such-flag", EXAMPLES).exitCode()).isEqualTo(2);
        assertThat(sparkgate("status", "not-a-number").exitCode()).isEqualTo(2);
        Run unknown = sparkgate("logs", "424242");
        assertThat(unknown.exitCode()).isEqualTo(5);
        assertThat(unknown.err()).contains("Session '424242' not found.");

        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Run down = run("list", "--server=127.0.0.1:" + closedPort);
        assertThat(down.exitCode()).isEqualTo(4);
        assertThat(down.err()).contains("cannot reach the server");
        Run downRest = run("list", "--rest", "--server=127.0.0.1:" + closedPort);
        assertThat(downRest.exitCode()).isEqualTo(4);
    }
}
