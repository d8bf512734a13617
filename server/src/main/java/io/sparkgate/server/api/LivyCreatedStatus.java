package io.sparkgate.server.api;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.SimpleDecoratingHttpService;
import io.netty.util.AttributeKey;

/**
 * Livy answers {@code POST /batches} with 201 Created (and a Location header, set by the service);
 * HTTP/JSON transcoding answers every call with 200. The service says when it created a batch
 * ({@link #CREATED}); this decorator turns that call's 200 into a 201 when it came over REST. A
 * decorator, so the service stays protocol-blind and gRPC callers (whose HTTP status is always 200) are
 * untouched.
 */
final class LivyCreatedStatus extends SimpleDecoratingHttpService {

    /** Set by the service when a create recorded a new batch (not a repeat of an earlier request id). */
    static final AttributeKey<Boolean> CREATED = AttributeKey.valueOf(LivyCreatedStatus.class, "CREATED");

    LivyCreatedStatus(HttpService delegate) {
        super(delegate);
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
        HttpResponse res = unwrap().serve(ctx, req);
        if (isGrpc(req.contentType())) {
            return res;
        }
        return res.mapHeaders(h -> h.status() == HttpStatus.OK && Boolean.TRUE.equals(ctx.attr(CREATED))
                                   ? h.toBuilder().status(HttpStatus.CREATED).build() : h);
    }

    /** gRPC and gRPC-Web, whose HTTP status must stay 200 whatever the call did. */
    static boolean isGrpc(@Nullable MediaType type) {
        return type != null && type.type().equals("application") && type.subtype().startsWith("grpc");
    }
}
