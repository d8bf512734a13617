package io.sparkgate.client.cli;

import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.ListBatchesResponse;
import io.sparkgate.client.LogFollow;
import io.sparkgate.client.SparkgateClient;
import java.util.function.Consumer;

/** The command line over Sparkgate's gRPC API: following is a stream, not polling. */
final class GrpcBatchApi implements BatchApi {

    private final SparkgateClient client;

    GrpcBatchApi(Connection connection) {
        SparkgateClient.Builder builder = SparkgateClient.builder(connection.target()).tls(connection.tls());
        connection.tlsFiles().caCert().ifPresent(builder::trustCertificates);
        connection.tlsFiles().clientCert().ifPresent(cert ->
                builder.clientCertificate(cert, connection.tlsFiles().clientKey().orElseThrow()));
        connection.authorization().ifPresent(credentials -> {
            if (credentials instanceof Connection.Basic basic) {
                builder.basicAuth(basic.user(), basic.password());
            } else if (credentials instanceof Connection.Bearer bearer) {
                builder.bearerToken(bearer.token());
            } else if (credentials instanceof Connection.Negotiate negotiate) {
                builder.negotiate(negotiate.negotiator());
            }
        });
        this.client = builder.build();
    }

    @Override
    public Batch submit(CreateBatchRequest request) {
        return client.submit(request);
    }

    @Override
    public Batch get(int id) {
        return client.get(id);
    }

    @Override
    public ListBatchesResponse list(int from, int size) {
        return client.list(from, size);
    }

    @Override
    public GetBatchLogResponse log(int id, int from, int size) {
        return client.log(id, from, size);
    }

    @Override
    public void kill(int id) {
        client.kill(id);
    }

    @Override
    public BatchState follow(int id, int from, Consumer<String> lines) {
        try (LogFollow follow = client.followLog(id, from)) {
            follow.forEachRemaining(line -> lines.accept(line.getText()));
            return follow.finalState().orElseGet(() -> client.state(id));
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
