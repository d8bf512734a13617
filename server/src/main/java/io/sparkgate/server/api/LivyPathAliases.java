package io.sparkgate.server.api;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.Routed;
import com.linecorp.armeria.server.RoutingContext;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.ServiceRequestContextWrapper;
import java.util.Map;

/**
 * Livy's other spellings of our REST routes, served by the routes themselves: {@code HEAD} on every
 * {@code GET} route (clients and load balancers probe with it) and a trailing slash on any path
 * ({@code /batches/}, {@code POST /batches/}, {@code /batches/0/state/}). A route template cannot say
 * either (the transcoding parser drops a trailing slash, and HTTP rules have no HEAD), so these requests
 * land here and are dispatched to the route the canonical spelling finds, with its own decorators
 * (authentication, CSRF, Livy's 201): one REST API, not a second one. A HEAD gets the GET's status and
 * headers and no body.
 */
final class LivyPathAliases implements HttpService {

    /** Adds the alias routes. Exact routes of the canonical spellings win over these by Armeria's routing. */
    static void addTo(ServerBuilder sb) {
        LivyPathAliases aliases = new LivyPathAliases();
        sb.route().path("regex:^/batches(/.*)?/$").build(aliases);
        sb.route().methods(HttpMethod.HEAD).path("/batches").build(aliases);
        sb.route().methods(HttpMethod.HEAD).pathPrefix("/batches/").build(aliases);
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
        String path = ctx.path();
        while (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        boolean head = req.method() == HttpMethod.HEAD;
        HttpMethod method = head ? HttpMethod.GET : req.method();
        RoutingContext canonical = ctx.routingContext().withPath(path).withMethod(method);
        Routed<ServiceConfig> routed = ctx.config().virtualHost().findServiceConfig(canonical);
        if (!routed.isPresent() || routed.value().service().as(LivyPathAliases.class) != null) {
            return HttpResponse.of(HttpStatus.NOT_FOUND, MediaType.JSON_UTF_8, "{\"msg\":\"Not found.\"}");
        }
        String query = ctx.query();
        HttpRequest forwarded = req.withHeaders(req.headers().toBuilder()
                .method(method)
                .path(query == null ? path : path + "?" + query)
                .build());
        // A HEAD is answered with the GET's headers: Armeria sends no body for a HEAD request.
        return routed.value().service().serve(new Rerouted(ctx, routed, canonical, forwarded, path), forwarded);
    }

    /** The request's own context, as the canonical route's service expects to find it. */
    private static final class Rerouted extends ServiceRequestContextWrapper {
        private final Routed<ServiceConfig> routed;
        private final RoutingContext routingContext;
        private final HttpRequest request;
        private final String path;

        Rerouted(ServiceRequestContext delegate, Routed<ServiceConfig> routed, RoutingContext routingContext,
                 HttpRequest request, String path) {
            super(delegate);
            this.routed = routed;
            this.routingContext = routingContext;
            this.request = request;
            this.path = path;
        }

        @Override
        public HttpRequest request() {
            return request;
        }

        @Override
        public HttpMethod method() {
            return request.method();
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public String decodedPath() {
            return routed.routingResult().decodedPath();
        }

        @Override
        public ServiceConfig config() {
            return routed.value();
        }

        @Override
        public RoutingContext routingContext() {
            return routingContext;
        }

        @Override
        public Map<String, String> pathParams() {
            return routed.routingResult().pathParams();
        }

        @Override
        public String mappedPath() {
            return routed.routingResult().path();
        }

        @Override
        public String decodedMappedPath() {
            return routed.routingResult().decodedPath();
        }
    }
}
