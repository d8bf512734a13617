package io.sparkgate.server.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import com.linecorp.armeria.common.HttpMethod;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.DeleteBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.WatchBatchRequest;
import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Malformed requests for the bad-input fuzz test, generated from one seed: the same seed gives the
 * same requests in the same order, so a failure can be replayed.
 */
final class MalformedRequests {

    /** A REST request: method, raw path (query included), optional content type and headers, body bytes. */
    record RestCase(String label, HttpMethod method, String path, String contentType, Map<String, String> headers,
                    byte[] body) {
        boolean isCreate() {
            return method == HttpMethod.POST && (path.equals("/batches") || path.startsWith("/batches?"));
        }
    }

    /** A gRPC call through the generated stubs: the method's name and its well-formed, hostile request. */
    record GrpcCall(String label, String method, Message request) {}

    /** Raw bytes POSTed to a gRPC method path with a gRPC content type. */
    record RawFrame(String label, String method, String contentType, byte[] body) {}

    /** A jar the submission policy lets through, so mutations reach the checks behind the path rules. */
    static final String JAR = io.sparkgate.server.TestServer.EXAMPLES_JAR.toString();
    private static final String[] CREATE_FIELDS = {
        "file", "proxyUser", "className", "args", "jars", "pyFiles", "files", "driverMemory", "driverCores",
        "executorMemory", "executorCores", "numExecutors", "archives", "queue", "name", "conf", "requestId"};
    private static final String[] NUMBER_FIELDS = {"driverCores", "executorCores", "numExecutors"};
    private static final String[] LIST_FIELDS = {"args", "jars", "pyFiles", "files", "archives"};

    /** JSON text put in place of a value as it is: numbers JSON cannot hold, wrong types, invalid tokens. */
    private static final String[] RAW_VALUES = {
        "1e400", "-1e400", "1e-400", "9223372036854775808", "9223372036854775807", "-9223372036854775809",
        "2147483648", "-2147483649", "2147483647", "-2147483648", "-0", "-0.0", "0.0", "0", "-1", "1.5", "1E2",
        "123456789012345678901234567890", "NaN", "Infinity", "-Infinity", "01", "0x10", ".5", "+1", "1.",
        "true", "false", "null", "[]", "{}", "[null]", "[1,2]", "[[]]", "{\"a\":1}", "{\"\":null}",
        "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1e400\"", "\"2147483648\"", "\"-0\"", "\"0x10\"",
        "\"\u0661\u0662\"", "\"\"", "\" 1\"", "\"1 \"", "\"ten\"", "\"1.5\"", "[\"a\",{\"b\":[]}]",
        "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\uZZZZ\"", "\"\\x41\"", "'single'",
        "undefined", "\"a\nb\"", "\"tab\there\"", "\"\\\"", "[1,]", "{\"a\":}", "{,}", "\"\\/\\b\\f\"",
        "[\"" + "\\u0001\\u001f\\u007f" + "\"]", "{\"spark.a\":{\"b\":1}}", "{\"spark.a\":[1]}", "{\"1\":2}"};

    /** Strings that are well-formed but hostile. */
    private static final String[] HOSTILE_STRINGS = {
        "", " ", "\u0000", "a\u0000b", "\u0001\u0002\u001f\u007f", "\r\n", "line\nbreak", "\u2028\u2029",
        "\ud800", "x\udc00", "\ufeff", "\uffff", "\u202eevil", "\ud83d\ude00",
        "; rm -rf /", "$(id)", "`id`", "| cat /etc/passwd", "&& echo pwned", "> /tmp/sparkgate-fuzz", "'\"",
        "$HOME", "*", "--conf", "-Dx=y", "--master=yarn", "\\", "%s%n%x", "${jndi:ldap://x/a}",
        "..", "../../../../etc/passwd", "file:/etc/passwd", "file:///etc/passwd", "%2e%2e/%2e%2e/etc/passwd",
        "..%2f..%2fetc%2fpasswd", "/", "/etc/shadow", "hdfs://nn/../../x", "\\\\server\\share\\x.jar",
        "C:\\Windows\\x.jar", "local:/x.jar", "http://169.254.169.254/latest/meta-data/", "jar:file:/x!/y",
        "spark.master", "spark.driver.extraJavaOptions", "=", "a=b=c", "spark.", "spark.a=b",
        "2147483648", "-1", "NaN", "0x10", "1e400", "512zz", "-512m", "9999999999999999999g"};

    private static final String[] QUERY_VALUES = {
        "-1", "-2147483648", "-2147483649", "2147483647", "2147483648", "99999999999", "99999999999999999999999",
        "abc", "", "1.5", "1e3", "%00", "0x10", "%201", "1%20", "+1", "%2B1", "NaN", "Infinity", "-0", "0",
        "5", "%ZZ", "%", "%E2%82", "%FF", "1,2", "%5B1%5D", "null", "true", "%0A", "%C0%AF"};

    private static final String[] BAD_IDS = {
        "abc", "99999999999", "-1", "%00", "2147483648", "-2147483649", "1.0", "0x1", "%2e%2e", "..", "%20",
        "1%3B2", "1%2F2", "+1", "-0", "1e3", "NaN", "%FF", "%C0%AF", "1000000", "2147483647", "-2147483648",
        "%E2%80%AE1", "1%00", "%0A", "a%20b", "99999999999999999999999999"};

    private final Random random;
    private final ObjectMapper json = new ObjectMapper();
    private final int fixtureId;

    /**
     * @param fixtureId an existing, finished batch with a log: log paging and streams on it reach past
     *                  the not-found check
     */
    MalformedRequests(long seed, int fixtureId) {
        this.random = new Random(seed);
        this.fixtureId = fixtureId;
    }

    // ---------------------------------------------------------------- REST

    List<RestCase> rest() {
        List<RestCase> cases = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            byte[] body = randomBytes(random.nextInt(600));
            cases.add(create("random bytes", body, pick("application/json", "application/json; charset=utf-8")));
        }
        for (int i = 0; i < 560; i++) {
            MutatedJson m = mutatedCreate();
            cases.add(create("mutated JSON (" + m.how + ")", m.text.getBytes(StandardCharsets.UTF_8),
                    "application/json"));
        }
        for (int i = 0; i < 60; i++) {
            byte[] full = mutatedCreate().text.getBytes(StandardCharsets.UTF_8);
            cases.add(create("truncated JSON", java.util.Arrays.copyOf(full, random.nextInt(full.length)),
                    "application/json"));
        }
        for (int i = 0; i < 60; i++) {
            cases.add(create("invalid UTF-8", invalidUtf8(validCreate().toString()), "application/json"));
        }
        for (int i = 0; i < 12; i++) {
            cases.add(create("deeply nested", deeplyNested(10_000), "application/json"));
        }
        for (int i = 0; i < 8; i++) {
            ObjectNode body = validCreate();
            String field = pick("file", "className", "name", "args", "conf", "requestId", "proxyUser", "queue");
            String huge = "x".repeat(1 << 20);
            switch (field) {
                case "args" -> body.putArray("args").add(huge);
                case "conf" -> body.putObject("conf").put("spark.huge", huge);
                default -> body.put(field, huge);
            }
            cases.add(create("1 MB string in " + field, bytes(body), "application/json"));
        }
        for (int i = 0; i < 6; i++) {
            ObjectNode body = validCreate();
            ArrayNode args = body.putArray(pick(LIST_FIELDS));
            for (int k = 0; k < 10_000; k++) {
                args.add(pick(HOSTILE_STRINGS));
            }
            ObjectNode conf = body.putObject("conf");
            for (int k = 0; k < 10_000; k++) {
                conf.put("spark.fuzz." + k, pick(HOSTILE_STRINGS));
            }
            cases.add(create("10k args and conf entries", bytes(body), "application/json"));
        }
        for (int i = 0; i < 130; i++) {
            cases.add(get("list query", "/batches?" + query()));
        }
        for (int i = 0; i < 130; i++) {
            String id = random.nextInt(3) == 0 ? pick(BAD_IDS) : Integer.toString(fixtureId);
            cases.add(get("log query", "/batches/" + id + "/log?" + query()));
        }
        for (int i = 0; i < 150; i++) {
            String id = pick(BAD_IDS);
            String suffix = pick("", "/state", "/log", "/log/stream", "/events", "/", "/log/", "/nope");
            HttpMethod method = random.nextInt(4) == 0 ? HttpMethod.DELETE : HttpMethod.GET;
            cases.add(new RestCase("bad path id", method, "/batches/" + id + suffix, null, Map.of(), new byte[0]));
        }
        for (int i = 0; i < 40; i++) {
            String path = pick("/batches/..", "/batches/../batches", "/batches/%2e%2e/1", "/%2e%2e/etc/passwd",
                    "/batches//1", "/batches/1/../../docs", "/batches;x=1", "/batches%00", "/batches/1/log/stream/..",
                    "/BATCHES", "/batches/%2F", "/batches/file:%2Fetc%2Fpasswd", "//batches", "/batches/?",
                    "/batches/1/log?from=1&from=2&size=3&size=-4", "/batches#frag");
            HttpMethod method = pick(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE);
            byte[] body = method == HttpMethod.POST ? bytes(validCreate()) : new byte[0];
            cases.add(new RestCase("bad path", method, path, method == HttpMethod.POST ? "application/json" : null,
                    Map.of(), body));
        }
        for (int i = 0; i < 110; i++) {
            cases.add(wrongMethodOrType());
        }
        for (int i = 0; i < 110; i++) {
            cases.add(sse());
        }
        return cases;
    }

    private RestCase create(String label, byte[] body, String contentType) {
        return new RestCase(label, HttpMethod.POST, "/batches", contentType, Map.of(), body);
    }

    private RestCase get(String label, String path) {
        return new RestCase(label, HttpMethod.GET, path, null, Map.of(), new byte[0]);
    }

    private String query() {
        StringBuilder q = new StringBuilder();
        int params = random.nextInt(4) + 1;
        for (int i = 0; i < params; i++) {
            if (i > 0) {
                q.append('&');
            }
            q.append(pick("from", "size", "from", "size", "FROM", "from[]", "size%00", ""));
            if (random.nextInt(8) != 0) {
                q.append('=').append(pick(QUERY_VALUES));
            }
        }
        return q.toString();
    }

    private RestCase wrongMethodOrType() {
        byte[] valid = bytes(validCreate());
        return switch (random.nextInt(6)) {
            case 0 -> new RestCase("wrong method", pick(HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE),
                    "/batches", "application/json", Map.of(), valid);
            case 1 -> new RestCase("wrong method", pick(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH),
                    "/batches/" + pick("0", "1", "abc", "-1") + pick("", "/state", "/log", "/log/stream", "/events"),
                    "application/json", Map.of(), valid);
            case 2 -> create("wrong content type", valid, pick("text/plain", "application/xml",
                    "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/octet-stream",
                    "application/json; charset=iso-8859-1", "application/grpc", "application/grpc+json",
                    "application/json; charset=utf-16", "*/*", "application/", "text/event-stream"));
            case 3 -> create("no content type", valid, null);
            case 4 -> new RestCase("GET with a body", HttpMethod.GET, "/batches", "application/json", Map.of(), valid);
            default -> create("form body", ("file=" + URLEncoder.encode(JAR, StandardCharsets.UTF_8) + "&args=1")
                    .getBytes(StandardCharsets.UTF_8), "application/x-www-form-urlencoded");
        };
    }

    private RestCase sse() {
        String id = random.nextInt(4) == 0 ? pick(BAD_IDS) : Integer.toString(fixtureId);
        String route = pick("/log/stream", "/log/stream", "/events");
        String path = "/batches/" + id + route;
        if (random.nextBoolean()) {
            path += "?from=" + pick(QUERY_VALUES) + (random.nextInt(5) == 0 ? "&from=" + pick(QUERY_VALUES) : "");
        }
        Map<String, String> headers = Map.of();
        if (random.nextBoolean()) {
            headers = Map.of("last-event-id", pick("garbage", "-1", "-2", "2147483647", "2147483646", "99999999999",
                    "1.5", " 3 ", "", "0x1", "NaN", "\t", "-2147483648", "1,2", "%00"));
        }
        return new RestCase("SSE params", HttpMethod.GET, path, null, headers, new byte[0]);
    }

    // ---------------------------------------------------------------- JSON bodies

    private record MutatedJson(String how, String text) {}

    ObjectNode validCreate() {
        ObjectNode body = json.createObjectNode();
        body.put("file", random.nextInt(3) == 0 ? pick(HOSTILE_STRINGS) : JAR);
        body.put("className", "io.sparkgate.examples.SparkPi");
        body.putArray("args").add("10");
        if (random.nextBoolean()) {
            body.put("name", "fuzz");
            body.put("driverMemory", "512m");
            body.put("numExecutors", 1);
        }
        if (random.nextBoolean()) {
            body.putObject("conf").put("spark.ui.enabled", "false");
            body.putArray("jars");
        }
        return body;
    }

    private MutatedJson mutatedCreate() {
        ObjectNode body = validCreate();
        List<String> raw = new ArrayList<>();
        List<String> how = new ArrayList<>();
        int mutations = 2 + random.nextInt(3);
        for (int i = 0; i < mutations; i++) {
            mutate(body, raw, how);
        }
        String text = body.toString();
        for (int i = 0; i < raw.size(); i++) {
            text = text.replace("\"@@raw" + i + "@@\"", raw.get(i));
        }
        if (random.nextInt(8) == 0) {
            String key = pick(CREATE_FIELDS);
            text = "{\"" + key + "\":" + pick(RAW_VALUES) + "," + text.substring(1);
            how.add("duplicate " + key);
        }
        return new MutatedJson(String.join(", ", how), text);
    }

    private void mutate(ObjectNode body, List<String> raw, List<String> how) {
        switch (random.nextInt(10)) {
            case 0 -> {
                String key = anyKey(body);
                body.remove(key);
                how.add("drop " + key);
            }
            case 1 -> {
                String key = anyKey(body);
                JsonNode value = body.remove(key);
                String renamed = pick(key.toUpperCase(), key + " ", "\u0000" + key, "", "class_name", "proxy_user",
                        "num_executors", "unknownField", "__proto__", "constructor", key.replace('e', '\u0435'));
                body.set(renamed, value);
                how.add("rename " + key);
            }
            case 2, 3, 4 -> {
                String key = random.nextBoolean() ? pick(CREATE_FIELDS) : pick(NUMBER_FIELDS);
                body.put(key, placeholder(raw, pick(RAW_VALUES)));
                how.add(key + " as raw value");
            }
            case 5 -> {
                String key = pick(CREATE_FIELDS);
                body.put(key, pick(HOSTILE_STRINGS));
                how.add(key + " as hostile string");
            }
            case 6 -> {
                String key = pick(LIST_FIELDS);
                ArrayNode list = body.putArray(key);
                int n = random.nextInt(5);
                for (int i = 0; i < n; i++) {
                    if (random.nextBoolean()) {
                        list.add(pick(HOSTILE_STRINGS));
                    } else {
                        list.add(placeholder(raw, pick(RAW_VALUES)));
                    }
                }
                how.add(key + " with hostile items");
            }
            case 7 -> {
                ObjectNode conf = body.putObject("conf");
                int n = 1 + random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    String key = random.nextBoolean() ? pick(HOSTILE_STRINGS) : "spark.fuzz." + i;
                    if (random.nextBoolean()) {
                        conf.put(key, pick(HOSTILE_STRINGS));
                    } else {
                        conf.put(key, placeholder(raw, pick(RAW_VALUES)));
                    }
                }
                how.add("hostile conf");
            }
            case 8 -> {
                String key = pick(CREATE_FIELDS);
                int depth = pickInt(2, 50, 200, 1_000, 5_000);
                body.put(key, placeholder(raw, nested(depth)));
                how.add(key + " nested " + depth + " deep");
            }
            default -> {
                body.put(pick("unknown", "sparkConf", "master", "deployMode", "id", "state", "owner", "kind", "code"),
                        pick(HOSTILE_STRINGS));
                how.add("unknown field");
            }
        }
    }

    private String anyKey(ObjectNode body) {
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        return keys.isEmpty() ? "file" : keys.get(random.nextInt(keys.size()));
    }

    private static String placeholder(List<String> raw, String value) {
        raw.add(value);
        return "@@raw" + (raw.size() - 1) + "@@";
    }

    private String nested(int depth) {
        String open = random.nextBoolean() ? "[" : "{\"a\":";
        String close = open.equals("[") ? "]" : "}";
        return open.repeat(depth) + "1" + close.repeat(depth);
    }

    private byte[] deeplyNested(int depth) {
        String where = pick("whole body", "file", "args", "conf", "numExecutors");
        String inner = nested(depth);
        String text = switch (where) {
            case "whole body" -> inner;
            case "args" -> "{\"file\":\"" + JAR + "\",\"args\":[" + inner + "]}";
            case "conf" -> "{\"file\":\"" + JAR + "\",\"conf\":{\"spark.a\":" + inner + "}}";
            default -> "{\"file\":\"" + JAR + "\",\"" + where + "\":" + inner + "}";
        };
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The text with invalid UTF-8 sequences inside its strings: lone continuation bytes, overlong forms, surrogates. */
    private byte[] invalidUtf8(String text) {
        byte[][] bad = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xFE}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xF8, (byte) 0x88, (byte) 0x80,
            (byte) 0x80, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xBF}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {(byte) 0xE2, (byte) 0x82}, {0x00}};
        byte[] src = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int inserts = 1 + random.nextInt(3);
        List<Integer> quotes = new ArrayList<>();
        for (int i = 0; i < src.length; i++) {
            if (src[i] == '"') {
                quotes.add(i);
            }
        }
        java.util.Set<Integer> at = new java.util.HashSet<>();
        for (int i = 0; i < inserts && !quotes.isEmpty(); i++) {
            at.add(quotes.get(random.nextInt(quotes.size())) + 1);
        }
        for (int i = 0; i < src.length; i++) {
            if (at.contains(i)) {
                out.writeBytes(bad[random.nextInt(bad.length)]);
            }
            out.write(src[i]);
        }
        return out.toByteArray();
    }

    private byte[] bytes(JsonNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- gRPC

    List<GrpcCall> grpc() {
        List<GrpcCall> calls = new ArrayList<>();
        for (int i = 0; i < 340; i++) {
            calls.add(new GrpcCall("hostile CreateBatch", "CreateBatch", hostileCreate()));
        }
        for (int i = 0; i < 260; i++) {
            int id = hostileId();
            switch (random.nextInt(5)) {
                case 0 -> calls.add(new GrpcCall("GetBatch id " + id, "GetBatch", GetBatchRequest.newBuilder().setId(id).build()));
                case 1 -> calls.add(new GrpcCall("GetBatchState id " + id, "GetBatchState",
                        GetBatchStateRequest.newBuilder().setId(id).build()));
                case 2 -> calls.add(new GrpcCall("DeleteBatch id " + id, "DeleteBatch",
                        DeleteBatchRequest.newBuilder().setId(id).build()));
                case 3 -> {
                    ListBatchesRequest.Builder list = ListBatchesRequest.newBuilder();
                    if (random.nextBoolean()) {
                        list.setFrom(hostileInt());
                    }
                    if (random.nextBoolean()) {
                        list.setSize(hostileInt());
                    }
                    calls.add(new GrpcCall("ListBatches " + list.build().toString().replace('\n', ' '), "ListBatches",
                            list.build()));
                }
                default -> {
                    GetBatchLogRequest.Builder log = GetBatchLogRequest.newBuilder()
                            .setId(random.nextBoolean() ? fixtureId : id);
                    if (random.nextBoolean()) {
                        log.setFrom(hostileInt());
                    }
                    if (random.nextBoolean()) {
                        log.setSize(hostileInt());
                    }
                    calls.add(new GrpcCall("GetBatchLog " + log.build().toString().replace('\n', ' '), "GetBatchLog",
                            log.build()));
                }
            }
        }
        for (int i = 0; i < 100; i++) {
            int id = random.nextBoolean() ? fixtureId : hostileId();
            if (random.nextBoolean()) {
                StreamBatchLogRequest.Builder stream = StreamBatchLogRequest.newBuilder().setId(id);
                if (random.nextBoolean()) {
                    stream.setFrom(hostileInt());
                }
                calls.add(new GrpcCall("StreamBatchLog " + stream.build().toString().replace('\n', ' '),
                        "StreamBatchLog", stream.build()));
            } else {
                calls.add(new GrpcCall("WatchBatch id " + id, "WatchBatch", WatchBatchRequest.newBuilder().setId(id).build()));
            }
        }
        return calls;
    }

    /** Ids that no batch of the test has: negative, huge, the int32 edges. */
    private int hostileId() {
        return switch (random.nextInt(5)) {
            case 0 -> Integer.MIN_VALUE;
            case 1 -> Integer.MAX_VALUE;
            case 2 -> -1 - random.nextInt(Integer.MAX_VALUE);
            default -> 1_000_000 + random.nextInt(Integer.MAX_VALUE - 1_000_000);
        };
    }

    private int hostileInt() {
        return switch (random.nextInt(7)) {
            case 0 -> Integer.MIN_VALUE;
            case 1 -> Integer.MAX_VALUE;
            case 2 -> -1;
            case 3 -> 0;
            case 4 -> Integer.MAX_VALUE - random.nextInt(10);
            case 5 -> random.nextInt(20);
            default -> random.nextInt();
        };
    }

    private CreateBatchRequest hostileCreate() {
        CreateBatchRequest.Builder b = CreateBatchRequest.newBuilder()
                .setFile(random.nextInt(3) == 0 ? hostileString() : JAR)
                .setClassName("io.sparkgate.examples.SparkPi");
        int mutations = 1 + random.nextInt(4);
        for (int i = 0; i < mutations; i++) {
            switch (random.nextInt(12)) {
                case 0 -> b.setFile(hostileString());
                case 1 -> b.setClassName(hostileString());
                case 2 -> b.setProxyUser(hostileString());
                case 3 -> b.setName(hostileString());
                case 4 -> b.setDriverMemory(hostileString()).setExecutorMemory(hostileString()).setQueue(hostileString());
                case 5 -> b.setDriverCores(hostileInt()).setExecutorCores(hostileInt()).setNumExecutors(hostileInt());
                case 6 -> {
                    int n = random.nextInt(10) == 0 ? 10_000 : random.nextInt(5);
                    for (int k = 0; k < n; k++) {
                        b.addArgs(n > 5 ? pick(HOSTILE_STRINGS) : hostileString());
                        b.addJars(n > 5 ? pick(HOSTILE_STRINGS) : hostileString());
                    }
                }
                case 7 -> b.addPyFiles(hostileString()).addFiles(hostileString()).addArchives(hostileString());
                case 8 -> {
                    int n = random.nextInt(10) == 0 ? 10_000 : 1 + random.nextInt(4);
                    for (int k = 0; k < n; k++) {
                        b.putConf(random.nextBoolean() && n < 5 ? hostileString() : "spark.fuzz." + k,
                                n > 5 ? pick(HOSTILE_STRINGS) : hostileString());
                    }
                }
                case 9 -> b.setRequestId(random.nextBoolean() ? hostileString() : "r".repeat(256 + random.nextInt(1000)));
                case 10 -> b.setFile("");
                default -> b.setFile("x".repeat(1 << 20));
            }
        }
        // Most also carry a value the server must refuse; the rest are accepted (and deleted by the test),
        // each starting a spark-submit: kept few, as the machine is small.
        if (random.nextInt(4) != 0) {
            switch (random.nextInt(6)) {
                case 0 -> b.setFile(pick("", " ", "\t\n"));
                case 1 -> b.setNumExecutors(-random.nextInt(Integer.MAX_VALUE));
                case 2 -> b.putConf(pick("", "spark.master", "spark.submit.deployMode", "master", "a=b", "\u0000"),
                        hostileString());
                case 3 -> b.setRequestId("q".repeat(256 + random.nextInt(5000)));
                case 4 -> b.setDriverCores(0);
                default -> b.setExecutorCores(Integer.MIN_VALUE);
            }
        }
        return b.build();
    }

    private String hostileString() {
        if (random.nextInt(40) == 0) {
            return "y".repeat(64 * 1024 + random.nextInt(1000));
        }
        if (random.nextInt(4) == 0) {
            // Random code points, controls and surrogate halves included.
            StringBuilder s = new StringBuilder();
            int n = random.nextInt(40);
            for (int i = 0; i < n; i++) {
                s.append((char) random.nextInt(0x10000));
            }
            return s.toString();
        }
        return pick(HOSTILE_STRINGS);
    }

    List<RawFrame> rawFrames() {
        List<RawFrame> frames = new ArrayList<>();
        for (int i = 0; i < 180; i++) {
            String method = random.nextInt(4) == 0
                    ? pick("GetBatch", "DeleteBatch", "ListBatches", "GetBatchLog", "StreamBatchLog", "WatchBatch",
                           "GetBatchState")
                    : "CreateBatch";
            String contentType = pick("application/grpc", "application/grpc", "application/grpc+proto",
                    "application/grpc+json", "application/grpc-web", "application/grpc-web-text");
            byte[] payload = contentType.endsWith("json")
                    ? (random.nextBoolean() ? mutatedCreate().text.getBytes(StandardCharsets.UTF_8) : randomBytes(80))
                    : randomBytes(random.nextInt(300));
            byte[] body;
            String how;
            switch (random.nextInt(6)) {
                case 0 -> {
                    body = payload;
                    how = "unframed bytes";
                }
                case 1 -> {
                    body = frame(0, payload.length + 1 + random.nextInt(100), payload);
                    how = "frame longer than its bytes";
                }
                case 2 -> {
                    body = frame(1, payload.length, payload);
                    how = "compressed flag without an encoding";
                }
                case 3 -> {
                    body = frame(random.nextInt(256), Integer.MAX_VALUE - random.nextInt(16), payload);
                    how = "huge declared length";
                }
                case 4 -> {
                    body = new byte[random.nextInt(5)];
                    random.nextBytes(body);
                    how = "short header";
                }
                default -> {
                    body = frame(0, payload.length, payload);
                    how = "well-framed random payload";
                }
            }
            if (contentType.endsWith("-text")) {
                body = random.nextBoolean() ? Base64.getEncoder().encode(body) : body;
            }
            frames.add(new RawFrame(how + " to " + method + " as " + contentType, method, contentType, body));
        }
        return frames;
    }

    private static byte[] frame(int flags, int declaredLength, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length).put((byte) flags).putInt(declaredLength).put(payload).array();
    }

    // ---------------------------------------------------------------- picking

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        if (n > 0 && random.nextBoolean()) {
            b[0] = (byte) "{[\"".charAt(random.nextInt(3));
        }
        return b;
    }

    @SafeVarargs
    private <T> T pick(T... options) {
        return options[random.nextInt(options.length)];
    }

    private int pickInt(int... options) {
        return options[random.nextInt(options.length)];
    }
}
