package io.sparkgate.client.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import io.sparkgate.api.v1.AppInfo;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.ListBatchesResponse;
import io.sparkgate.client.SparkgateException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The command line over Apache Livy's batch REST API, so the same commands drive any Livy server.
 * Livy has no streaming: following polls {@code /log} and {@code /state} once a second, as Airflow does.
 */
final class RestBatchApi implements BatchApi {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FINAL = Set.of("success", "dead", "killed", "error");
    private static final Duration POLL = Duration.ofSeconds(1);

    /** The servers' base URLs, in the order they are tried; several when the server has replicas. */
    private final List<String> bases;
    private final HttpClient http;
    private final java.util.Optional<Connection.Credentials> authorization;

    RestBatchApi(Connection connection) {
        List<String> bases = new ArrayList<>();
        for (String target : connection.target().split(",")) {
            target = target.strip();
            bases.add(target.startsWith("http://") || target.startsWith("https://") ? target
                    : (connection.tls() ? "https://" : "http://") + target);
        }
        this.bases = List.copyOf(bases);
        HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (bases.stream().anyMatch(base -> base.startsWith("https://"))) {
            http.sslContext(connection.tlsFiles().sslContext());
        }
        this.http = http.build();
        this.authorization = connection.authorization();
    }

    @Override
    public Batch submit(CreateBatchRequest r) {
        ObjectNode body = JSON.createObjectNode().put("file", r.getFile());
        putIfSet(body, "className", r.getClassName());
        putIfSet(body, "name", r.getName());
        putIfSet(body, "proxyUser", r.getProxyUser());
        putIfSet(body, "queue", r.getQueue());
        putIfSet(body, "driverMemory", r.getDriverMemory());
        putIfSet(body, "executorMemory", r.getExecutorMemory());
        putIfSet(body, "requestId", r.getRequestId());
        if (r.hasNumExecutors()) {
            body.put("numExecutors", r.getNumExecutors());
        }
        array(body, "args", r.getArgsList());
        array(body, "jars", r.getJarsList());
        array(body, "pyFiles", r.getPyFilesList());
        array(body, "files", r.getFilesList());
        if (!r.getConfMap().isEmpty()) {
            ObjectNode conf = body.putObject("conf");
            r.getConfMap().forEach(conf::put);
        }
        return toBatch(call("POST", "/batches", body.toString()));
    }

    @Override
    public Batch get(int id) {
        return toBatch(call("GET", "/batches/" + id, null));
    }

    @Override
    public ListBatchesResponse list(int from, int size) {
        JsonNode page = call("GET", "/batches?from=" + from + "&size=" + size, null);
        ListBatchesResponse.Builder out = ListBatchesResponse.newBuilder()
                .setFrom(page.path("from").asInt()).setTotal(page.path("total").asInt());
        page.path("sessions").forEach(s -> out.addSessions(toBatch(s)));
        return out.build();
    }

    @Override
    public GetBatchLogResponse log(int id, int from, int size) {
        JsonNode page = call("GET", "/batches/" + id + "/log?from=" + from + "&size=" + size, null);
        GetBatchLogResponse.Builder out = GetBatchLogResponse.newBuilder().setId(id)
                .setFrom(page.path("from").asInt()).setTotal(page.path("total").asInt())
                .setSize(page.path("size").asInt());
        page.path("log").forEach(l -> out.addLog(l.asText()));
        return out.build();
    }

    @Override
    public void kill(int id) {
        call("DELETE", "/batches/" + id, null);
    }

    @Override
    public BatchState follow(int id, int from, Consumer<String> lines) throws InterruptedException {
        int next = from;
        while (true) {
            String state = call("GET", "/batches/" + id + "/state", null).path("state").asText();
            GetBatchLogResponse page;
            do {
                page = log(id, next, 1000);
                page.getLogList().forEach(lines);
                next = page.getFrom() + page.getSize();
            } while (page.getSize() > 0);
            if (FINAL.contains(state)) {
                return toState(state);
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    @Override
    public void close() {}

    /**
     * One call, to the first server that takes it. A server that refuses the connection never saw the
     * request, so the next one is tried whatever the method; a connection that breaks after the request
     * was sent moves on only for a GET (a POST might have created a batch already).
     */
    private JsonNode call(String method, String path, String body) {
        HttpResponse<String> res = null;
        for (int i = 0; res == null; i++) {
            String base = bases.get(i);
            try {
                res = http.send(request(base, method, path, body), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                boolean notSent = e instanceof ConnectException || e instanceof HttpConnectTimeoutException;
                if (i == bases.size() - 1 || !(notSent || method.equals("GET"))) {
                    throw new SparkgateException(Status.UNAVAILABLE.withDescription("cannot reach " + base + ": " + e)
                            .withCause(e).asRuntimeException());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SparkgateException(Status.CANCELLED.asRuntimeException());
            }
        }
        JsonNode json;
        try {
            json = JSON.readTree(res.body().isEmpty() ? "{}" : res.body());
        } catch (IOException e) {
            json = JSON.createObjectNode().put("msg", res.body());
        }
        if (res.statusCode() >= 400) {
            throw new SparkgateException(status(res.statusCode()).withDescription(json.path("msg").asText(res.body()))
                    .asRuntimeException());
        }
        return json;
    }

    private HttpRequest request(String base, String method, String path, String body) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        // Per request and per server: a Negotiate token is for one server and good for one request only.
        authorization.ifPresent(credentials -> req.header("Authorization",
                credentials.headerValue(URI.create(base).getHost())));
        if (body == null) {
            req.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            req.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        return req.build();
    }

    private static Status status(int http) {
        return switch (http) {
            case 400 -> Status.INVALID_ARGUMENT;
            case 401 -> Status.UNAUTHENTICATED;
            case 403 -> Status.PERMISSION_DENIED;
            case 404 -> Status.NOT_FOUND;
            case 409 -> Status.ALREADY_EXISTS;
            case 429 -> Status.RESOURCE_EXHAUSTED;
            case 503 -> Status.UNAVAILABLE;
            default -> Status.UNKNOWN;
        };
    }

    static Batch toBatch(JsonNode b) {
        Batch.Builder out = Batch.newBuilder().setId(b.path("id").asInt()).setState(toState(b.path("state").asText()));
        if (b.hasNonNull("name")) {
            out.setName(b.get("name").asText());
        }
        if (b.hasNonNull("owner")) {
            out.setOwner(b.get("owner").asText());
        }
        if (b.hasNonNull("proxyUser")) {
            out.setProxyUser(b.get("proxyUser").asText());
        }
        if (b.hasNonNull("appId")) {
            out.setAppId(b.get("appId").asText());
        }
        AppInfo.Builder info = AppInfo.newBuilder();
        JsonNode appInfo = b.path("appInfo");
        if (appInfo.hasNonNull("driverLogUrl")) {
            info.setDriverLogUrl(appInfo.get("driverLogUrl").asText());
        }
        if (appInfo.hasNonNull("sparkUiUrl")) {
            info.setSparkUiUrl(appInfo.get("sparkUiUrl").asText());
        }
        out.setAppInfo(info);
        b.path("log").forEach(l -> out.addLog(l.asText()));
        return out.build();
    }

    static BatchState toState(String livy) {
        return switch (livy.toLowerCase(Locale.ROOT)) {
            case "not_started" -> BatchState.BATCH_STATE_NOT_STARTED;
            case "starting", "recovering" -> BatchState.BATCH_STATE_STARTING;
            case "running", "idle", "busy", "shutting_down" -> BatchState.BATCH_STATE_RUNNING;
            case "success" -> BatchState.BATCH_STATE_SUCCESS;
            case "dead", "error" -> BatchState.BATCH_STATE_DEAD;
            case "killed" -> BatchState.BATCH_STATE_KILLED;
            default -> BatchState.BATCH_STATE_UNSPECIFIED;
        };
    }

    private static void putIfSet(ObjectNode body, String key, String value) {
        if (!value.isEmpty()) {
            body.put(key, value);
        }
    }

    private static void array(ObjectNode body, String key, java.util.List<String> values) {
        if (!values.isEmpty()) {
            ArrayNode a = body.putArray(key);
            values.forEach(a::add);
        }
    }
}
