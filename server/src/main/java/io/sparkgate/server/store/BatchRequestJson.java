package io.sparkgate.server.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgate.server.values.BatchRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * A request as stored: JSON with Livy's field names, absent fields left out. Readable by an operator
 * in the database, and tolerant of fields added later (unknown ones are ignored, missing ones empty).
 */
final class BatchRequestJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private BatchRequestJson() {}

    static String write(BatchRequest r) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("file", r.file());
        text(o, "className", r.className());
        text(o, "proxyUser", r.proxyUser());
        text(o, "name", r.name());
        list(o, "args", r.args());
        list(o, "jars", r.jars());
        list(o, "pyFiles", r.pyFiles());
        list(o, "files", r.files());
        list(o, "archives", r.archives());
        text(o, "driverMemory", r.driverMemory());
        number(o, "driverCores", r.driverCores());
        text(o, "executorMemory", r.executorMemory());
        number(o, "executorCores", r.executorCores());
        number(o, "numExecutors", r.numExecutors());
        text(o, "queue", r.queue());
        if (!r.conf().isEmpty()) {
            ObjectNode conf = o.putObject("conf");
            new TreeMap<>(r.conf()).forEach(conf::put);
        }
        return o.toString();
    }

    static BatchRequest read(String json) {
        JsonNode o;
        try {
            o = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored request is not JSON: " + e.getMessage(), e);
        }
        Map<String, String> conf = new TreeMap<>();
        o.path("conf").fields().forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
        return new BatchRequest(
                o.path("file").asText(""), text(o, "className"), text(o, "proxyUser"), text(o, "name"),
                list(o, "args"), list(o, "jars"), list(o, "pyFiles"), list(o, "files"), list(o, "archives"),
                text(o, "driverMemory"), number(o, "driverCores"), text(o, "executorMemory"),
                number(o, "executorCores"), number(o, "numExecutors"), text(o, "queue"), conf);
    }

    private static void text(ObjectNode o, String key, String value) {
        if (!value.isEmpty()) {
            o.put(key, value);
        }
    }

    private static void list(ObjectNode o, String key, List<String> values) {
        if (!values.isEmpty()) {
            values.forEach(o.putArray(key)::add);
        }
    }

    private static void number(ObjectNode o, String key, OptionalInt value) {
        value.ifPresent(v -> o.put(key, v));
    }

    private static String text(JsonNode o, String key) {
        return o.path(key).asText("");
    }

    private static List<String> list(JsonNode o, String key) {
        List<String> out = new ArrayList<>();
        o.path(key).forEach(v -> out.add(v.asText()));
        return out;
    }

    private static OptionalInt number(JsonNode o, String key) {
        JsonNode v = o.get(key);
        return v == null || v.isNull() ? OptionalInt.empty() : OptionalInt.of(v.asInt());
    }
}
