package io.sparkgate.server.yarn;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The body of the NodeManager's {@code containerlogs} web service (Hadoop 3) wraps the file's bytes:
 * <pre>
 * Container: container_… on host:port
 * LogAggregationType: LOCAL
 * ==========…
 * LogType:stdout
 * LogLastModifiedTime:…
 * LogLength:1234
 * LogContents:
 * &lt;the file's bytes&gt;
 * End of LogType:stdout
 * ***********…
 * </pre>
 */
final class ContainerLogResponse {

    private static final String CONTENTS = "LogContents:\n";
    private static final String END = "End of LogType:";

    private ContainerLogResponse() {}

    /** The file's bytes; a body without the wrapper is taken as the bytes themselves. */
    static byte[] content(byte[] body) {
        // ISO-8859-1 maps bytes to chars one to one: indexes in the string are byte offsets.
        String text = new String(body, StandardCharsets.ISO_8859_1);
        int start = text.indexOf(CONTENTS);
        if (start < 0) {
            return body;
        }
        start += CONTENTS.length();
        int end = text.lastIndexOf(END);
        if (end < start) {
            end = body.length;
        } else if (end > start && text.charAt(end - 1) == '\n') {
            end--; // the newline the wrapper puts before its trailer
        }
        return Arrays.copyOfRange(body, start, end);
    }
}
