package io.sparkgate.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.sparkgate.api.v1.AppInfo;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LivyJsonMarshallerTest {

    private final LivyJsonMarshaller json = new LivyJsonMarshaller();

    @Test
    void batchesHaveEveryLivyKeyWithNullsAndLowercaseStates() throws Exception {
        Batch batch = Batch.newBuilder().setId(0).setState(BatchState.BATCH_STATE_NOT_STARTED)
                .setAppInfo(AppInfo.newBuilder().setSparkUiUrl("http://ui")).build();

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        json.serializeMessage(ProtoUtils.marshaller(Batch.getDefaultInstance()), batch, out);

        // Livy's keys first, in Livy's order, each present with null where unknown; ours follow them.
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).startsWith(
                "{\"id\":0,\"name\":null,\"owner\":null,\"proxyUser\":null,\"state\":\"not_started\",\"appId\":null,"
                + "\"appInfo\":{\"driverLogUrl\":null,\"sparkUiUrl\":\"http://ui\",\"executorLogUrls\":null},"
                + "\"log\":[],");
        assertThat(text).contains("\"stateHistory\":[]", "\"createdTime\":null");
    }

    @Test
    void requestsTakeNumbersAsStringsAndStringsAsNumbersButNoUnknownFields() throws Exception {
        CreateBatchRequest r = read("{\"file\":\"a.jar\",\"numExecutors\":\"10\",\"args\":[2000],\"conf\":{\"n\":0},"
                + "\"proxy_user\":\"bob\"}");
        assertThat(r.getNumExecutors()).isEqualTo(10);
        assertThat(r.getArgsList()).containsExactly("2000");
        assertThat(r.getConfMap()).containsEntry("n", "0");
        assertThat(r.getProxyUser()).isEqualTo("bob");

        assertThatThrownBy(() -> read("{\"file\":\"a.jar\",\"colour\":1}"))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("colour");
        assertThatThrownBy(() -> read("{\"file\":\"a.jar\",\"numExecutors\":\"ten\"}"))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT");
    }

    private CreateBatchRequest read(String text) throws Exception {
        return json.deserializeMessage(ProtoUtils.marshaller(CreateBatchRequest.getDefaultInstance()),
                new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    }
}
