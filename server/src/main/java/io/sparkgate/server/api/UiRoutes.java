package io.sparkgate.server.api;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.file.FileService;
import java.util.function.Function;

/**
 * The web UI: static HTML, CSS and ES modules from the server's resources ({@code ui/}) at {@code /ui/},
 * and {@code /} redirecting there. Everything the pages show comes from the API, with the caller's own
 * credentials, so a user sees in the UI exactly what the API shows them.
 *
 * <p>Every UI response carries a Content-Security-Policy that allows scripts, styles and connections from
 * this server only and no inline script, so even a batch name or log line that slipped into markup
 * could not run. Redirects are relative, so the UI works behind a proxy under a path prefix.
 */
final class UiRoutes {

    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private UiRoutes() {}

    /**
     * Adds the routes, each wrapped in {@code decorator}: {@link
     * io.sparkgate.server.security.Authentication#uiDecorator()}.
     */
    static void addTo(ServerBuilder sb, Function<? super HttpService, ? extends HttpService> decorator) {
        HttpService files = FileService.builder(UiRoutes.class.getClassLoader(), "ui")
                .serveCompressedFiles(false)
                .autoIndex(false)
                .maxCacheEntries(64)
                // Revalidated on every load: a server upgrade must not leave an old page talking to a new API.
                .cacheControl("no-cache")
                .build();
        sb.serviceUnder("/ui/", files.decorate(UiRoutes::secured).decorate(decorator));
        HttpService toUi = (ctx, req) -> HttpResponse.ofRedirect(HttpStatus.FOUND, "ui/");
        HttpService toUiSlash = (ctx, req) -> HttpResponse.ofRedirect(HttpStatus.FOUND, "ui/");
        sb.service("/", toUi.decorate(decorator));
        sb.service("/ui", toUiSlash.decorate(decorator));
    }

    private static HttpService secured(HttpService delegate) {
        return (ctx, req) -> {
            ctx.mutateAdditionalResponseHeaders(h -> h
                    .set("content-security-policy", CONTENT_SECURITY_POLICY)
                    .set("x-content-type-options", "nosniff")
                    .set("referrer-policy", "same-origin")
                    .set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY"));
            return delegate.serve(ctx, req);
        };
    }
}
