package io.sparkgate.server;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads a whole Server-Sent Events stream, as a browser's EventSource would see it. */
final class SseClient {

    /** One event: its {@code id:}, {@code event:} (default "message") and {@code data:}. */
    record Event(String id, String event, String data) {}

    /** A finished stream: the HTTP status, content type and every event. */
    record Stream(int status, String contentType, List<Event> events, String body) {
        List<Event> messages() {
            return events.stream().filter(e -> e.event().equals("message")).toList();
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static Stream read(String url, Map<String, String> headers) throws Exception {
        return read(url, headers, event -> { });
    }

    /** As {@link #read(String, Map)}, telling {@code onEvent} of each event as it arrives. */
    static Stream read(String url, Map<String, String> headers, java.util.function.Consumer<Event> onEvent)
            throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(3));
        headers.forEach(req::header);
        HttpResponse<java.io.InputStream> res = HTTP.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
        String type = res.headers().firstValue("content-type").orElse("");
        List<Event> events = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
            String id = null;
            String event = "message";
            StringBuilder data = null;
            String line;
            while ((line = in.readLine()) != null) {
                body.append(line).append('\n');
                if (line.isEmpty()) {
                    if (data != null) {
                        Event e = new Event(id, event, data.toString());
                        events.add(e);
                        onEvent.accept(e);
                    }
                    id = null;
                    event = "message";
                    data = null;
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = data == null ? new StringBuilder(line.substring(6)) : data.append('\n').append(line.substring(6));
                }
            }
        }
        return new Stream(res.statusCode(), type, events, body.toString());
    }
}
