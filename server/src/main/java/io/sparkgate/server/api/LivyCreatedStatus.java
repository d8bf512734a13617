package io.sparkgate.server.api;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.SimpleDecoratingHttpService;
import io.netty.util.AttributeKey;

/**
 * Livy answers {@code POST /batches} with 201 Created (and a Location header, set by the service);
 * HTTP/JSON transcoding answers every call with 200. A decorator, so the service stays protocol-blind
 * and gRPC callers are untouched.
 */
final class LivyCreatedStatus extends SimpleDecoratingHttpService {

    /** Set by the service when a create returned an existing batch (same request id): 200, not 201. */
    static final AttributeKey<Boolean> REPLAYED = AttributeKey.valueOf(LivyCreatedStatus.class, "REPLAYED");

    LivyCreatedStatus(HttpService delegate) {
        super(delegate);
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
        HttpResponse res = unwrap().serve(ctx, req);
        if (req.method() != HttpMethod.POST || !"/batches".equals(ctx.path())) {
            return res;
        }
        return res.mapHeaders(h -> h.status() == HttpStatus.OK && !Boolean.TRUE.equals(ctx.attr(REPLAYED))
                                   ? h.toBuilder().status(HttpStatus.CREATED).build() : h);
    }
}
