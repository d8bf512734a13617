package io.sparkgate.server.api;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * gRPC's own call handlers end some malformed calls themselves, without the service's exception handler:
 * a streaming call whose request message never came is closed as INTERNAL "Half-closed without a request".
 * The client sent too little, so it is INVALID_ARGUMENT, by the same rule as {@link LivyErrors#malformedCall}.
 */
final class MalformedCallInterceptor implements ServerInterceptor {

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        return next.startCall(new SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                Status clientFault = LivyErrors.malformedCall(status, status.getCause());
                super.close(clientFault != null ? clientFault : status, trailers);
            }
        }, headers);
    }
}
