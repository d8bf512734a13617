package io.sparkgate.server.security;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import java.util.Locale;
import java.util.Set;

/**
 * Livy's CSRF mode ({@code livy.server.csrf-protection.enabled}): a request that changes something
 * must carry an {@code X-Requested-By} header, which a browser sends cross-site only after a CORS
 * preflight the server never grants. Native gRPC is exempt: its {@code application/grpc} content type
 * needs the same preflight. gRPC-Web and REST are not.
 */
public final class CsrfProtection implements DecoratingHttpServiceFunction {

    /** Livy's header and message, so Livy clients that already send it keep working. */
    public static final String HEADER = "X-Requested-By";
    static final String MESSAGE = "{\"msg\":\"Missing Required Header for CSRF protection.\"}";

    private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        if (SAFE.contains(req.method()) || isNativeGrpc(req) || req.headers().contains(HEADER)) {
            return delegate.serve(ctx, req);
        }
        return HttpResponse.of(HttpStatus.BAD_REQUEST, MediaType.JSON_UTF_8, MESSAGE);
    }

    private static boolean isNativeGrpc(HttpRequest req) {
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null) {
            return false;
        }
        type = type.toLowerCase(Locale.ROOT);
        return type.startsWith("application/grpc") && !type.startsWith("application/grpc-web");
    }
}
