package io.sparkgate.client.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.client.SparkgateException;
import io.sparkgate.client.ClientTls;
import io.sparkgate.client.ServerList;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** What every client subcommand shares: where the server is, how to talk to it, how to print. */
abstract class ClientCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--server", paramLabel = "HOST:PORT[,HOST:PORT...]",
            defaultValue = "${env:SPARKGATE_SERVER:-localhost:8998}",
            description = "Server to talk to (default: $SPARKGATE_SERVER or localhost:8998); several replicas of "
                    + "one server comma-separated, tried in order when one is unreachable.")
    String server;

    @Option(names = "--rest", description = "Speak Apache Livy's REST API instead of gRPC (works with any Livy server).")
    boolean rest;

    @Option(names = "--json", description = "Print JSON for scripts instead of text for people.")
    boolean json;

    @Option(names = "--tls", description = "Use TLS (implied by --ca-cert and --client-cert).")
    boolean tls;

    @Option(names = "--ca-cert", paramLabel = "FILE",
            description = "PEM CA certificate(s) to trust for the server's certificate (a private CA).")
    Path caCert;

    @Option(names = "--client-cert", paramLabel = "FILE", description = "PEM client certificate, for mutual TLS.")
    Path clientCert;

    @Option(names = "--client-key", paramLabel = "FILE",
            description = "PEM key of --client-cert (unencrypted PKCS#8, 'BEGIN PRIVATE KEY').")
    Path clientKey;

    @Option(names = "--user", description = "User for HTTP basic auth; the password comes from "
            + "$SPARKGATE_PASSWORD or --password-file.")
    String user;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "File whose first line is the password of --user.")
    Path passwordFile;

    @Option(names = "--token", defaultValue = "${env:SPARKGATE_TOKEN}",
            description = "Bearer token (static or JWT) sent with every call (default: $SPARKGATE_TOKEN).")
    String token;

    @Option(names = "--negotiate", description = "Kerberos (SPNEGO), as curl --negotiate: the tickets of the "
            + "ticket cache ($KRB5CCNAME or the default; run kinit first) for HTTP/<server host>.")
    boolean negotiate;

    @Option(names = "--ticket-cache", paramLabel = "FILE",
            description = "Kerberos ticket cache for --negotiate (default: $KRB5CCNAME, else the system's).")
    Path ticketCache;

    @Override
    public final Integer call() throws Exception {
        Connection connection;
        try {
            connection = connection();
        } catch (IllegalArgumentException e) {
            err().println("sparkgate: " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (SparkgateException e) {
            // No Kerberos ticket to authenticate with: the server would refuse us.
            err().println("sparkgate: " + e.status().getDescription());
            return ExitCodes.REJECTED;
        }
        try (BatchApi api = rest ? new RestBatchApi(connection) : new GrpcBatchApi(connection)) {
            return run(api);
        } catch (SparkgateException e) {
            Status status = e.status();
            if (status.getCode() == Status.Code.UNAVAILABLE) {
                err().println("sparkgate: cannot reach the server at " + server
                        + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")"));
                return ExitCodes.UNREACHABLE;
            }
            err().println("sparkgate: " + (status.getDescription() != null ? status.getDescription() : status.getCode()));
            return ExitCodes.REJECTED;
        }
    }

    abstract int run(BatchApi api) throws Exception;

    /** The server, TLS and credentials from the options and the environment. */
    private Connection connection() throws IOException {
        if ((clientCert == null) != (clientKey == null)) {
            throw new IllegalArgumentException("--client-cert and --client-key go together");
        }
        Optional<Connection.Credentials> credentials = Optional.empty();
        if (ticketCache != null && !negotiate) {
            throw new IllegalArgumentException("--ticket-cache goes with --negotiate");
        }
        if (negotiate) {
            if (user != null || (token != null && !token.isEmpty()
                    && spec.commandLine().getParseResult().hasMatchedOption("--token"))) {
                throw new IllegalArgumentException("give one of --negotiate, --user and --token");
            }
            credentials = Optional.of(new Connection.Negotiate(io.sparkgate.client.Negotiator.fromTicketCache(
                    Optional.ofNullable(ticketCache))));
        } else if (user != null) {
            if (token != null && !token.isEmpty() && spec.commandLine().getParseResult().hasMatchedOption("--token")) {
                throw new IllegalArgumentException("give --user or --token, not both");
            }
            String password;
            if (passwordFile != null) {
                password = Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            } else {
                password = System.getenv("SPARKGATE_PASSWORD");
                if (password == null) {
                    throw new IllegalArgumentException("--user needs a password: set $SPARKGATE_PASSWORD or --password-file");
                }
            }
            credentials = Optional.of(new Connection.Basic(user, password));
        } else if (token != null && !token.isEmpty()) {
            credentials = Optional.of(new Connection.Bearer(token.strip()));
        }
        if (!rest) {
            ServerList.parse(server); // a bad list is a usage error here, not a failure to connect later
        }
        ClientTls files = new ClientTls(Optional.ofNullable(caCert), Optional.ofNullable(clientCert),
                Optional.ofNullable(clientKey));
        boolean useTls = tls || caCert != null || clientCert != null || server.startsWith("https://");
        return new Connection(server, useTls, files, credentials);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** A message as JSON with Livy's lowercase state names. */
    static JsonNode toJson(MessageOrBuilder message) {
        try {
            JsonNode node = JSON.readTree(JsonFormat.printer().alwaysPrintFieldsWithNoPresence()
                    .omittingInsignificantWhitespace().print(message));
            return livyStates(node);
        } catch (InvalidProtocolBufferException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    private static JsonNode livyStates(JsonNode node) {
        if (node instanceof ObjectNode obj) {
            Iterator<Map.Entry<String, JsonNode>> fields = obj.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                if (f.getValue().isTextual() && f.getValue().asText().startsWith("BATCH_STATE_")) {
                    obj.put(f.getKey(), f.getValue().asText().substring("BATCH_STATE_".length()).toLowerCase(Locale.ROOT));
                } else {
                    livyStates(f.getValue());
                }
            }
        } else if (node.isArray()) {
            node.forEach(ClientCommand::livyStates);
        }
        return node;
    }

    static String state(BatchState state) {
        return state.name().substring("BATCH_STATE_".length()).toLowerCase(Locale.ROOT);
    }

    static int exitCode(BatchState finalState) {
        return switch (finalState) {
            case BATCH_STATE_SUCCESS -> ExitCodes.OK;
            case BATCH_STATE_KILLED -> ExitCodes.KILLED;
            default -> ExitCodes.DEAD;
        };
    }

    static String age(Batch b) {
        if (!b.hasCreatedTime()) {
            return "-";
        }
        Duration d = Duration.between(Instant.ofEpochSecond(b.getCreatedTime().getSeconds()), Instant.now());
        if (d.toDays() > 0) {
            return d.toDays() + "d";
        }
        if (d.toHours() > 0) {
            return d.toHours() + "h";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + "m";
        }
        return Math.max(0, d.toSeconds()) + "s";
    }

    /**
     * Follows a batch's log to its end, printing each line (as JSON lines with {@code --json}), with a
     * live status line on stderr when it is a terminal. Returns the exit code of the final state.
     */
    int follow(BatchApi api, int id, int from) throws InterruptedException {
        StatusLine status = StatusLine.start(err(), "batch " + id);
        BatchState end;
        try {
            end = api.follow(id, from, line -> {
                status.clear();
                if (json) {
                    out().println(object().put("line", line));
                } else {
                    out().println(line);
                }
                out().flush();
            });
        } finally {
            status.stop();
        }
        if (json) {
            out().println(object().put("id", id).put("state", state(end)));
        } else {
            err().println("batch " + id + " ended: " + state(end));
        }
        return exitCode(end);
    }
}
