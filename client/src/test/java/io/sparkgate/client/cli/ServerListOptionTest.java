package io.sparkgate.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --server a:8998,b:8998}: the command line reaches whichever replica answers. */
class ServerListOptionTest {

    private final List<String> seen = new CopyOnWriteArrayList<>();
    private HttpServer livy;

    @AfterEach
    void stop() {
        if (livy != null) {
            livy.stop(0);
        }
    }

    record Run(int exitCode, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = new CommandLine(new ClientCommands.ListBatches());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    /** A Livy-shaped REST server with one batch, on loopback. */
    private String livyWithOneBatch() throws IOException {
        livy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        livy.createContext("/batches", exchange -> {
            seen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            byte[] body = ("{\"from\":0,\"total\":1,\"sessions\":[{\"id\":42,\"name\":\"etl\",\"state\":\"running\","
                    + "\"appId\":null,\"appInfo\":{},\"log\":[]}]}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        livy.start();
        return "127.0.0.1:" + livy.getAddress().getPort();
    }

    @Test
    void overRestAServerThatRefusesTheConnectionIsSkipped() throws IOException {
        String live = livyWithOneBatch();

        Run run = run("--rest", "--server", "127.0.0.1:" + closedPort() + "," + live);

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("42").contains("etl").contains("running");
        assertThat(seen).containsExactly("GET /batches?from=0&size=100");
    }

    @Test
    void whenNoServerAnswersTheExitCodeSaysUnreachableAndNamesTheList() throws IOException {
        String servers = "127.0.0.1:" + closedPort() + ",127.0.0.1:" + closedPort();

        Run grpc = run("--server", servers);
        Run rest = run("--rest", "--server", servers);

        assertThat(grpc.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(grpc.err()).contains("cannot reach the server at " + servers);
        assertThat(rest.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
    }

    @Test
    void aBadServerListIsAUsageError() {
        Run run = run("--server", "a:8998,b");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("server 'b' is not HOST:PORT");
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
