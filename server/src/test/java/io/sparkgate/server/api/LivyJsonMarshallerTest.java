package io.sparkgate.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.sparkgate.api.v1.AppInfo;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.ListBatchesResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
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

    @Test
    void aFinishedPageIsTheSameJsonEveryTimeItIsWrittenAsAFreshCopyOfIt() throws Exception {
        Batch done = Batch.newBuilder().setId(7).setName("wörd \"count\"").setState(BatchState.BATCH_STATE_SUCCESS)
                .setAppInfo(AppInfo.newBuilder().setSparkUiUrl("http://ui")).addLog("line 1").addLog("läst").build();
        Batch dead = done.toBuilder().setId(8).setState(BatchState.BATCH_STATE_DEAD).build();
        ListBatchesResponse page = ListBatchesResponse.newBuilder().setFrom(7).setTotal(9).addSessions(done)
                .addSessions(dead).build();

        // Asked for once, again (its JSON kept then), and again (the kept JSON), and a batch of it on its own:
        // always what a fresh copy of the same page, never written before, gives.
        String fresh = write(ListBatchesResponse.getDefaultInstance(), page.toBuilder().build());
        assertThat(fresh).startsWith("{\"from\":7,\"total\":9,\"sessions\":[{\"id\":7,\"name\":\"wörd \\\"count\\\"\"")
                .contains("\"log\":[\"line 1\",\"läst\"]", "\"state\":\"dead\"");
        for (int i = 0; i < 3; i++) {
            assertThat(write(ListBatchesResponse.getDefaultInstance(), page)).as("write %d", i).isEqualTo(fresh);
        }
        String alone = write(Batch.getDefaultInstance(), done);
        assertThat(fresh).contains(alone);
        assertThat(write(Batch.getDefaultInstance(), done)).isEqualTo(alone);
        assertThat(write(ListBatchesResponse.getDefaultInstance(), page.toBuilder().setTotal(10).build()))
                .isEqualTo(fresh.replace("\"total\":9", "\"total\":10"));
    }

    @Test
    void timestampsAreWrittenAsInstantWritesThem() throws Exception {
        java.util.Random random = new java.util.Random(17);
        List<long[]> cases = new java.util.ArrayList<>(List.of(new long[] {0, 0}, new long[] {0, 1}, new long[] {59, 1_000},
                new long[] {86_399, 999_999_999}, new long[] {951_782_400, 120_000_000}, new long[] {-1, 0},
                new long[] {-62_135_596_800L, 0}, new long[] {253_402_300_799L, 999_000_000}, new long[] {253_402_300_800L, 0},
                new long[] {-62_135_596_801L, 5}));
        for (int i = 0; i < 10_000; i++) {
            int nanos = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1_000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1_000;
                default -> random.nextInt(1_000_000_000);
            };
            cases.add(new long[] {random.nextLong(-70_000_000_000L, 260_000_000_000L), nanos});
        }
        for (long[] c : cases) {
            java.io.StringWriter out = new java.io.StringWriter();
            try (com.fasterxml.jackson.core.JsonGenerator g = new com.fasterxml.jackson.core.JsonFactory().createGenerator(out)) {
                LivyJsonMarshaller.writeTimestamp(g, c[0], (int) c[1]);
            }
            assertThat(out.toString()).as("%d s %d ns", c[0], c[1])
                    .isEqualTo("\"" + java.time.Instant.ofEpochSecond(c[0], c[1]) + "\"");
        }
    }

    private <T extends com.google.protobuf.Message> String write(T prototype, T message) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        json.serializeMessage(ProtoUtils.marshaller(prototype), message, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private CreateBatchRequest read(String text) throws Exception {
        return json.deserializeMessage(ProtoUtils.marshaller(CreateBatchRequest.getDefaultInstance()),
                new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    }
}
