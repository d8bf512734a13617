package io.sparkgate.server.yarn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The NodeManager's containerlogs body, unwrapped to the file's bytes. */
class ContainerLogResponseTest {

    @Test
    void stripsTheHeaderAndTrailerOfALocalLog() {
        String body = """
                Container: container_1_0001_01_000001 on localhost_34145
                LogAggregationType: LOCAL
                ========================================================
                LogType:stdout
                LogLastModifiedTime:Thu Nov 26 02:28:30 +0000 2026
                LogLength:25
                LogContents:
                Pi is roughly 3.14
                tail

                End of LogType:stdout
                ***********************************************************

                """;

        assertThat(text(ContainerLogResponse.content(bytes(body)))).isEqualTo("Pi is roughly 3.14\ntail\n");
    }

    @Test
    void aBodyWithoutWrapperIsTheFileItself() {
        assertThat(text(ContainerLogResponse.content(bytes("line 1\nline 2")))).isEqualTo("line 1\nline 2");
    }

    @Test
    void keepsMultiByteCharactersIntact() {
        String body = "LogContents:\nΠ ≈ 3.14\n\nEnd of LogType:stdout\n***\n";
        assertThat(text(ContainerLogResponse.content(bytes(body)))).isEqualTo("Π ≈ 3.14\n");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
