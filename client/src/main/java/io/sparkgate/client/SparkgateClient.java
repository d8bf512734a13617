package io.sparkgate.client;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import io.sparkgate.api.v1.Batch;
import io.sparkgate.api.v1.BatchServiceGrpc;
import io.sparkgate.api.v1.BatchState;
import io.sparkgate.api.v1.CreateBatchRequest;
import io.sparkgate.api.v1.DeleteBatchRequest;
import io.sparkgate.api.v1.GetBatchLogRequest;
import io.sparkgate.api.v1.GetBatchLogResponse;
import io.sparkgate.api.v1.GetBatchRequest;
import io.sparkgate.api.v1.GetBatchStateRequest;
import io.sparkgate.api.v1.ListBatchesRequest;
import io.sparkgate.api.v1.ListBatchesResponse;
import io.sparkgate.api.v1.StateChange;
import io.sparkgate.api.v1.StreamBatchLogRequest;
import io.sparkgate.api.v1.WatchBatchRequest;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A Java client of Sparkgate's gRPC API ({@code sparkgate.v1.BatchService}). Every failed call throws
 * {@link SparkgateException} with the gRPC status.
 *
 * <pre>{@code
 * try (SparkgateClient client = SparkgateClient.connect("localhost:8998")) {
 *     Batch batch = client.submit(CreateBatchRequest.newBuilder()
 *             .setFile("/path/app.jar").setClassName("com.example.Main").build());
 *     try (LogFollow log = client.followLog(batch.getId(), 0)) {
 *         log.forEachRemaining(line -> System.out.println(line.getText()));
 *         System.out.println(log.finalState().orElseThrow());
 *     }
 * }
 * }</pre>
 *
 * <p>Over 300 lines because it is the whole client API in one place to read: one method per RPC, each
 * with its retry rule (a submit is retried only with a request id) and its failover across servers.
 */
public final class SparkgateClient implements AutoCloseable {

    /** Attempts of a read before UNAVAILABLE is given up on; the waits between them double from 200 ms. */
    private static final int READ_ATTEMPTS = 4;

    private final ManagedChannel channel;
    private final BatchServiceGrpc.BatchServiceBlockingStub stub;
    private final Duration deadline;

    private SparkgateClient(ManagedChannel channel, Metadata headers, Optional<Negotiator> negotiator,
                            Duration deadline) {
        this.channel = channel;
        BatchServiceGrpc.BatchServiceBlockingStub base = BatchServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        this.stub = negotiator.map(n -> base.withCallCredentials(new NegotiateCredentials(n))).orElse(base);
        this.deadline = deadline;
    }

    /** A new SPNEGO token in each call's metadata: a server refuses one it has seen before. */
    private static final class NegotiateCredentials extends io.grpc.CallCredentials {
        private final Negotiator negotiator;

        NegotiateCredentials(Negotiator negotiator) {
            this.negotiator = negotiator;
        }

        @Override
        public void applyRequestMetadata(RequestInfo info, java.util.concurrent.Executor executor,
                                         MetadataApplier applier) {
            // GSS may ask the KDC for a service ticket: off the caller's transport thread.
            executor.execute(() -> {
                try {
                    Metadata headers = new Metadata();
                    headers.put(AUTHORIZATION, negotiator.header(Negotiator.hostOf(info.getAuthority())));
                    applier.apply(headers);
                } catch (SparkgateException e) {
                    applier.fail(e.status());
                }
            });
        }
    }

    /** A client of the server at {@code target} ({@code host:port}), over plaintext HTTP/2, no credentials. */
    public static SparkgateClient connect(String target) {
        return builder(target).build();
    }

    /**
     * A builder for a client of the server at {@code target}: {@code host:port}, or several replicas
     * of one Sparkgate as {@code host:port,host:port} (see {@link #builder(List)}).
     *
     * @throws IllegalArgumentException when a server is not {@code host:port}
     */
    public static Builder builder(String target) {
        return new Builder(ServerList.parse(requireNonNull(target, "target")));
    }

    /**
     * A builder for a client of several replicas of one Sparkgate (servers sharing one database), each
     * {@code host:port}. Calls go to the first server that accepts a connection; when it becomes
     * unreachable, the retries of the rules below ({@link #submit}) go to the next one.
     *
     * @throws IllegalArgumentException when the list is empty or a server is not {@code host:port}
     */
    public static Builder builder(List<String> servers) {
        return new Builder(ServerList.of(requireNonNull(servers, "servers")));
    }

    /** Options of a {@link SparkgateClient}: TLS, credentials, deadline. */
    public static final class Builder {
        private final ServerList servers;
        private boolean tls;
        private Optional<Path> caCert = Optional.empty();
        private Optional<Path> clientCert = Optional.empty();
        private Optional<Path> clientKey = Optional.empty();
        private final Metadata headers = new Metadata();
        private Duration deadline = Duration.ofSeconds(30);
        private Supplier<Negotiator> negotiator;

        private Builder(ServerList servers) {
            this.servers = servers;
        }

        /** Use TLS (with the JVM's trust store) instead of plaintext. */
        public Builder tls(boolean useTls) {
            this.tls = useTls;
            return this;
        }

        /** Use TLS and trust the CA certificates in {@code caPem} (e.g. a private CA) instead of the JVM's. */
        public Builder trustCertificates(Path caPem) {
            this.caCert = Optional.of(requireNonNull(caPem, "caPem"));
            this.tls = true;
            return this;
        }

        /**
         * Use TLS and present this client certificate (mutual TLS). {@code keyPem} is an unencrypted
         * PKCS#8 key ({@code BEGIN PRIVATE KEY}).
         */
        public Builder clientCertificate(Path certPem, Path keyPem) {
            this.clientCert = Optional.of(requireNonNull(certPem, "certPem"));
            this.clientKey = Optional.of(requireNonNull(keyPem, "keyPem"));
            this.tls = true;
            return this;
        }

        /** Send {@code Authorization: Bearer <token>} with every call. */
        public Builder bearerToken(String token) {
            headers.put(AUTHORIZATION, "Bearer " + requireNonNull(token, "token"));
            return this;
        }

        /** Send HTTP basic credentials with every call. */
        public Builder basicAuth(String user, String password) {
            String pair = requireNonNull(user, "user") + ":" + requireNonNull(password, "password");
            headers.put(AUTHORIZATION, "Basic " + java.util.Base64.getEncoder()
                    .encodeToString(pair.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            return this;
        }

        /**
         * Authenticate with Kerberos (SPNEGO, {@code authorization: Negotiate}) using the tickets of the
         * user's ticket cache ({@code $KRB5CCNAME}, else the system's default): run {@code kinit} first.
         * A server's principal is {@code HTTP/<its host>@REALM}.
         */
        public Builder negotiate() {
            this.negotiator = () -> Negotiator.fromTicketCache(Optional.empty());
            return this;
        }

        /** As {@link #negotiate()}, with the tickets of the cache file {@code ticketCache}. */
        public Builder negotiate(Path ticketCache) {
            requireNonNull(ticketCache, "ticketCache");
            this.negotiator = () -> Negotiator.fromTicketCache(Optional.of(ticketCache));
            return this;
        }

        /** As {@link #negotiate()}, with the tickets of {@code user}, logged in by the application (a keytab). */
        public Builder negotiate(javax.security.auth.Subject user) {
            requireNonNull(user, "user");
            this.negotiator = () -> Negotiator.fromSubject(user);
            return this;
        }

        /** As {@link #negotiate()}, with the tokens of {@code negotiator}. */
        public Builder negotiate(Negotiator negotiator) {
            requireNonNull(negotiator, "negotiator");
            this.negotiator = () -> negotiator;
            return this;
        }

        /** Deadline of each unary call (default 30 s); streams have none. */
        public Builder deadline(Duration value) {
            this.deadline = requireNonNull(value, "deadline");
            return this;
        }

        /** The client; close it when done. */
        public SparkgateClient build() {
            ChannelCredentials credentials = InsecureChannelCredentials.create();
            if (tls) {
                ClientTls material = new ClientTls(caCert, clientCert, clientKey);
                TlsChannelCredentials.Builder creds = TlsChannelCredentials.newBuilder();
                javax.net.ssl.TrustManager[] trust = material.trustManagers();
                if (trust != null) {
                    creds.trustManager(trust);
                }
                javax.net.ssl.KeyManager[] keys = material.keyManagers();
                if (keys != null) {
                    creds.keyManager(keys);
                }
                credentials = creds.build();
            }
            ManagedChannel channel = Grpc.newChannelBuilder(servers.channelTarget(), credentials)
                    .defaultLoadBalancingPolicy("pick_first")
                    .build();
            return new SparkgateClient(channel, headers, Optional.ofNullable(negotiator).map(Supplier::get), deadline);
        }
    }

    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private BatchServiceGrpc.BatchServiceBlockingStub unary() {
        return stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Records a batch and starts launching it; returns it as recorded. Retried while the server is
     * UNAVAILABLE only when the request carries a {@code request_id}: the server then answers a repeat
     * with the batch it already has, so a retry can never run the application twice.
     */
    public Batch submit(CreateBatchRequest request) {
        if (request.getRequestId().isEmpty()) {
            return call(() -> unary().createBatch(request));
        }
        return read(() -> unary().createBatch(request));
    }

    /** One batch with its last log lines. */
    public Batch get(int id) {
        return read(() -> unary().getBatch(GetBatchRequest.newBuilder().setId(id).build()));
    }

    /** A batch's state alone. */
    public BatchState state(int id) {
        return read(() -> unary().getBatchState(GetBatchStateRequest.newBuilder().setId(id).build()).getState());
    }

    /** A page of batches in ascending id order. */
    public ListBatchesResponse list(int from, int size) {
        return read(() -> unary().listBatches(ListBatchesRequest.newBuilder().setFrom(from).setSize(size).build()));
    }

    /** A page of a batch's log; {@code size < 0} means all lines from {@code from}. */
    public GetBatchLogResponse log(int id, int from, int size) {
        return read(() -> unary().getBatchLog(GetBatchLogRequest.newBuilder().setId(id).setFrom(from).setSize(size).build()));
    }

    /** Kills the batch if it runs and removes it. */
    public void kill(int id) {
        call(() -> unary().deleteBatch(DeleteBatchRequest.newBuilder().setId(id).build()));
    }

    /**
     * Follows a batch's log from line {@code from}: every line, live, until the batch ends. When the
     * server becomes unavailable meanwhile (a restart, or a replica gone), the follow reconnects, to
     * another replica if the client has several, and resumes after the last line it returned: no line
     * is lost or repeated.
     */
    public LogFollow followLog(int id, int from) {
        return new LogFollow(offset -> {
            Context.CancellableContext context = Context.current().withCancellation();
            StreamBatchLogRequest request = StreamBatchLogRequest.newBuilder().setId(id).setFrom(offset).build();
            try {
                return new LogFollow.Stream(context, context.call(() -> stub.streamBatchLog(request)));
            } catch (StatusRuntimeException e) {
                context.cancel(null);
                throw e;
            } catch (Exception e) {
                context.cancel(null);
                throw new IllegalStateException(e);
            }
        }, from, SparkgateClient::pause, READ_ATTEMPTS);
    }

    /** The batch's current state, then each change until a final one, as a blocking iterator. */
    public Iterator<StateChange> watch(int id) {
        Iterator<StateChange> changes = stub.watchBatch(WatchBatchRequest.newBuilder().setId(id).build());
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return call(changes::hasNext);
            }

            @Override
            public StateChange next() {
                return call(changes::next);
            }
        };
    }

    /**
     * A read, retried with backoff while the server is UNAVAILABLE (restarting, overloaded, or a
     * replica gone: the channel then connects to the next one).
     */
    private static <T> T read(Supplier<T> call) {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.get();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempt == READ_ATTEMPTS) {
                    throw new SparkgateException(e);
                }
            }
            pause(attempt);
        }
    }

    /** The wait before retry {@code attempt + 1}: 200 ms, doubling. */
    private static void pause(int attempt) {
        try {
            Thread.sleep(200L << (attempt - 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SparkgateException(Status.CANCELLED.asRuntimeException());
        }
    }

    private static <T> T call(Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw new SparkgateException(e);
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
