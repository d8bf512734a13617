package io.sparkgate.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.RequestHeaders;
import io.grpc.Status;
import io.sparkgate.server.TestServer;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Requests that are not what they claim to be get a client error naming what was wrong, never INTERNAL
 * or UNKNOWN (which tell a client the server is broken), and never a batch. Found by BadInputFuzzTest.
 */
class MalformedCallTest {

    @RegisterExtension
    static final TestServer server = new TestServer();

    @Test
    void bytesThatAreNoGrpcFrameAreInvalidArgument() {
        AggregatedHttpResponse res = grpc("CreateBatch", "application/grpc", "not a frame at all".getBytes(StandardCharsets.UTF_8));
        assertStatus(res, Status.Code.INVALID_ARGUMENT, "Malformed gRPC request");
    }

    @Test
    void aFrameThatIsNoProtobufMessageIsInvalidArgument() {
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 0x07};
        assertStatus(grpc("CreateBatch", "application/grpc", frame(0, garbage.length, garbage)),
                Status.Code.INVALID_ARGUMENT, "Malformed gRPC request");
    }

    @Test
    void aCompressedFrameWithoutAnEncodingIsInvalidArgument() {
        byte[] payload = {0x0a, 0x01, 0x61};
        assertStatus(grpc("CreateBatch", "application/grpc", frame(1, payload.length, payload)),
                Status.Code.INVALID_ARGUMENT, "compress");
    }

    @Test
    void aFrameLongerThanTheRequestIsAClientError() {
        byte[] payload = {0x0a, 0x01, 0x61};
        AggregatedHttpResponse res = grpc("CreateBatch", "application/grpc", frame(0, 90, payload));
        assertStatus(res, Status.Code.INVALID_ARGUMENT, "Malformed gRPC request");
    }

    @Test
    void aStreamingCallWithoutItsRequestMessageIsInvalidArgument() {
        assertStatus(grpc("WatchBatch", "application/grpc", new byte[0]), Status.Code.INVALID_ARGUMENT,
                "without a request");
    }

    @Test
    void grpcWebTextThatIsNoBase64IsInvalidArgument() {
        assertStatus(grpc("CreateBatch", "application/grpc-web-text", new byte[] {0, 1, 2, 3, 4, 5, 6, 7}),
                Status.Code.INVALID_ARGUMENT, "Base64");
    }

    @Test
    void confKeysThatAreNoPropertyNamesAreRefusedBeforeAnythingIsRecorded() {
        // (Property names outside spark.* are accepted and dropped at launch, as on Livy: LivyDropInTest.)
        int before = server.getJson("/batches").get("total").asInt();

        HttpResponse<String> withSpace = server.call("POST", "/batches",
                "{\"file\": \"" + io.sparkgate.server.TestServer.EXAMPLES_JAR + "\", \"conf\": {\"my colour\": \"blue\"}}");
        assertThat(withSpace.statusCode()).isEqualTo(400);
        assertThat(withSpace.body()).contains("my colour").contains("not a Spark property name");

        HttpResponse<String> withEquals = server.call("POST", "/batches",
                "{\"file\": \"" + io.sparkgate.server.TestServer.EXAMPLES_JAR + "\", \"conf\": {\"spark.a=spark.master\": \"yarn\"}}");
        assertThat(withEquals.statusCode()).isEqualTo(400);
        assertThat(withEquals.body()).contains("spark.a=spark.master").contains("not a Spark property name");

        assertThat(server.getJson("/batches").get("total").asInt()).isEqualTo(before);
    }

    @Test
    void aHugeBadValueIsNotEchoedBackWhole() {
        HttpResponse<String> res = server.call("POST", "/batches",
                "{\"file\": \"" + io.sparkgate.server.TestServer.EXAMPLES_JAR + "\", \"numExecutors\": \"" + "9".repeat(200_000) + "\"}");
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(res.body()).contains("Not an int32 value", "characters");
        assertThat(res.body().length()).isLessThan(1_000);
    }

    @Test
    void theLargestLastEventIdResumesPastTheEndInsteadOfWrappingToANegativeOffset() {
        AggregatedHttpResponse res = WebClient.of(server.baseUrl()).execute(RequestHeaders.builder(HttpMethod.GET,
                "/batches/987654/log/stream").set("last-event-id", Integer.toString(Integer.MAX_VALUE)).build())
                .aggregate().join();
        // Before: 400 "'from' must be >= 0, got -2147483648". Now the header is fine and the batch is unknown.
        assertThat(res.status().code()).isEqualTo(404);
        assertThat(res.contentUtf8()).contains("not found");
    }

    private static AggregatedHttpResponse grpc(String method, String contentType, byte[] body) {
        RequestHeaders headers = RequestHeaders.builder(HttpMethod.POST, "/sparkgate.v1.BatchService/" + method)
                .contentType(com.linecorp.armeria.common.MediaType.parse(contentType))
                .set("te", "trailers")
                .build();
        return WebClient.of(server.baseUrl()).execute(HttpRequest.of(headers, HttpData.wrap(body))).aggregate().join();
    }

    private static Status.Code code(AggregatedHttpResponse res) {
        String status = res.trailers().get("grpc-status", res.headers().get("grpc-status"));
        assertThat(status).as("grpc-status of HTTP %s", res.status()).isNotNull();
        return Status.fromCodeValue(Integer.parseInt(status)).getCode();
    }

    private static void assertStatus(AggregatedHttpResponse res, Status.Code expected, String inMessage) {
        assertThat(code(res)).isEqualTo(expected);
        String message = res.trailers().get("grpc-message", res.headers().get("grpc-message"));
        assertThat(message).isNotNull();
        assertThat(java.net.URLDecoder.decode(message, StandardCharsets.UTF_8)).containsIgnoringCase(inMessage);
    }

    private static byte[] frame(int flags, int declaredLength, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length).put((byte) flags).putInt(declaredLength).put(payload).array();
    }
}
