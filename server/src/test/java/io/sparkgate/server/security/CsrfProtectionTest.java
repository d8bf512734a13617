package io.sparkgate.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparkgate.api.v1.BatchServiceGrpc.BatchServiceBlockingStub;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.server.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Livy's CSRF mode: changes over HTTP need X-Requested-By; reads and native gRPC do not. */
class CsrfProtectionTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Passes CSRF, then is refused by the submission policy: no Spark needed to tell the two apart. */
    private static final String REFUSED_BODY = "{\"file\": \"file:/etc/passwd\"}";
    private static final String CSRF_MESSAGE = "Missing Required Header for CSRF protection.";

    @RegisterExtension
    static final TestServer server = new TestServer(Map.of("livy.server.csrf-protection.enabled", "true"));

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> call(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                                             : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            req.header("Content-Type", "application/json");
        }
        if (headers.length > 0) {
            req.headers(headers);
        }
        return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String msg(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).get("msg").asText();
    }

    @Test
    void restChangesWithoutTheHeaderAreRefusedWithLivysMessage() throws Exception {
        int before = server.getJson("/batches?size=0").get("total").asInt();

        HttpResponse<String> post = call("POST", "/batches", REFUSED_BODY);
        assertThat(post.statusCode()).isEqualTo(400);
        assertThat(post.headers().firstValue("content-type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        assertThat(msg(post)).isEqualTo(CSRF_MESSAGE);
        HttpResponse<String> delete = call("DELETE", "/batches/4242", null);
        assertThat(delete.statusCode()).isEqualTo(400);
        assertThat(msg(delete)).isEqualTo(CSRF_MESSAGE);

        HttpResponse<String> postWithHeader = call("POST", "/batches", REFUSED_BODY, "X-Requested-By", "me");
        assertThat(postWithHeader.statusCode()).isEqualTo(400);
        assertThat(msg(postWithHeader)).contains("'file'");
        HttpResponse<String> deleteWithHeader = call("DELETE", "/batches/4242", null, "X-Requested-By", "me");
        assertThat(deleteWithHeader.statusCode()).isEqualTo(404);

        assertThat(call("GET", "/batches", null).statusCode()).isEqualTo(200);
        assertThat(server.getJson("/batches?size=0").get("total").asInt()).isEqualTo(before);
    }

    @Test
    void nativeGrpcIsExemptButGrpcWebIsNot() {
        CreateBatchRequest refused = CreateBatchRequest.newBuilder().setFile("file:/etc/passwd").build();
        BatchServiceBlockingStub grpc = GrpcClients.newClient(server.baseUrl(), BatchServiceBlockingStub.class);
        assertThatThrownBy(() -> grpc.createBatch(refused)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("'file'");
        });

        BatchServiceBlockingStub web = GrpcClients.builder(server.baseUrl())
                .serializationFormat(GrpcSerializationFormats.PROTO_WEB).build(BatchServiceBlockingStub.class);
        assertThatThrownBy(() -> web.createBatch(refused)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getDescription()).doesNotContain("'file'"));

        BatchServiceBlockingStub webWithHeader = GrpcClients.builder(server.baseUrl())
                .serializationFormat(GrpcSerializationFormats.PROTO_WEB)
                .addHeader(CsrfProtection.HEADER, "me").build(BatchServiceBlockingStub.class);
        assertThatThrownBy(() -> webWithHeader.createBatch(refused)).isInstanceOfSatisfying(
                StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("'file'");
                });
    }

    @Test
    void offByDefault() {
        assertThat(io.sparkgate.server.config.ConfigLoader.fromMap(java.util.Map.of()).csrfProtection()).isFalse();
    }
}
