package io.sparkgate.server.api;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.netty.util.AttributeKey;

/**
 * Marks the moment a call's request became a message ({@link #REQUEST_READ}), so that a failure before it
 * is known to be the client's fault ({@link LivyErrors#malformedCall}). gRPC's own call handlers also end
 * some malformed calls themselves, without the service's exception handler (a streaming call whose request
 * message never came is closed as INTERNAL "Half-closed without a request"): those are corrected here.
 */
final class MalformedCallInterceptor implements ServerInterceptor {

    /** Set once the call's request message has been parsed and handed to the service. */
    static final AttributeKey<Boolean> REQUEST_READ =
            AttributeKey.valueOf(MalformedCallInterceptor.class, "REQUEST_READ");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        ServerCall.Listener<Q> listener = next.startCall(new SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                Status clientFault = LivyErrors.malformedCall(ctx, status, status.getCause());
                super.close(clientFault != null ? clientFault : status, trailers);
            }
        }, headers);
        return new SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                if (ctx != null) {
                    ctx.setAttr(REQUEST_READ, true);
                }
                super.onMessage(message);
            }
        };
    }
}
