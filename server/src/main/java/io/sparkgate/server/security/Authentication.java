package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.common.SerializationFormat;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import com.linecorp.armeria.common.grpc.protocol.GrpcHeaderNames;
import com.linecorp.armeria.common.grpc.protocol.StatusMessageEscaper;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.SimpleDecoratingHttpService;
import com.linecorp.armeria.server.auth.AbstractAuthorizerWithHandlers;
import com.linecorp.armeria.server.auth.AuthFailureHandler;
import com.linecorp.armeria.server.auth.AuthService;
import com.linecorp.armeria.server.auth.AuthServiceBuilder;
import com.linecorp.armeria.server.auth.AuthorizationStatus;
import com.linecorp.armeria.common.auth.BasicToken;
import com.linecorp.armeria.common.auth.OAuth2Token;
import io.grpc.Status;
import io.sparkgate.server.config.AuthSettings;
import io.sparkgate.server.config.AuthSettings.Mode;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is calling, for every service on the port: one Armeria {@link AuthService} decorator (basic,
 * bearer, client certificate or Kerberos/SPNEGO, per {@code sparkgate.auth.mode}) that puts the authenticated
 * {@link Caller} on the request context ({@link Callers#CALLER}) before any service runs, or refuses the
 * request: REST, SSE and {@code /docs} get a 401 with Livy's {@code {"msg"}} and a
 * {@code WWW-Authenticate} challenge; gRPC and gRPC-Web get a trailers-only response with status
 * UNAUTHENTICATED.
 *
 * <p>The gRPC health service ({@code grpc.health.v1.Health}) is exempt, so load balancers can probe
 * without credentials; it tells nothing but whether the server serves.
 */
public final class Authentication {

    private static final Logger log = LoggerFactory.getLogger(Authentication.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REALM = "sparkgate";
    /** Paths that need no credentials: the gRPC health service's methods. */
    private static final String HEALTH_PREFIX = "/grpc.health.v1.Health/";
    static final String REQUIRED = "authentication required";

    private final AuthSettings settings;
    @Nullable
    private final Function<? super HttpService, AuthService> auth;

    private Authentication(AuthSettings settings, @Nullable Function<? super HttpService, AuthService> auth) {
        this.settings = settings;
        this.auth = auth;
    }

    /**
     * The authentication of {@code settings}, its credential files read and checked now.
     *
     * @throws io.sparkgate.server.config.ConfigLoader.ConfigException naming the key of a bad file
     */
    public static Authentication from(AuthSettings settings) {
        requireNonNull(settings, "settings");
        AuthServiceBuilder builder = AuthService.builder();
        String challenge;
        switch (settings.mode()) {
            case NONE -> {
                return new Authentication(settings, null);
            }
            case BASIC -> {
                PasswordCheck passwords = PasswordCheck.load(settings.usersFile().orElseThrow());
                challenge = "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"";
                // BCrypt takes a fraction of a second: never on the event loop.
                builder.addBasicAuth(new CheckingAuthorizer<BasicToken>(challenge, true,
                        (ctx, token) -> passwords.check(token.username(), token.password())));
            }
            case BEARER -> {
                BearerCheck bearer = BearerCheck.load(settings.tokensFile(), settings.jwt());
                challenge = "Bearer realm=\"" + REALM + "\"";
                builder.addOAuth2(new CheckingAuthorizer<OAuth2Token>(challenge + ", error=\"invalid_token\"", false,
                        (ctx, token) -> bearer.check(token.accessToken())));
            }
            case MTLS -> {
                challenge = null; // HTTP has no challenge scheme for client certificates
                builder.add(new CheckingAuthorizer<HttpRequest>(null, false,
                        (ctx, req) -> CertificateCheck.check(ctx.sslSession())));
            }
            case KERBEROS -> {
                SpnegoCheck spnego = SpnegoCheck.load(settings.kerberos().orElseThrow());
                challenge = SpnegoCheck.challenge();
                // The keytab may be re-read from disk: off the event loop.
                builder.add(new CheckingAuthorizer<HttpRequest>(challenge, true, (ctx, req) -> {
                    SpnegoCheck.Accepted accepted = spnego.check(req.headers().get(HttpHeaderNames.AUTHORIZATION));
                    // Mutual authentication: the client may check that it talked to the real service.
                    accepted.mutualAuthHeader().ifPresent(value -> ctx.addAdditionalResponseHeader(
                            HttpHeaderNames.WWW_AUTHENTICATE, value));
                    return accepted.caller();
                }));
            }
            default -> throw new IllegalStateException(settings.mode().name());
        }
        String missing = challenge;
        builder.onFailure((delegate, ctx, req, cause) -> {
            if (cause != null) {
                log.warn("{} {}: authentication failed unexpectedly", req.method(), req.path(), cause);
            }
            return refuse(ctx, req, settings.mode() == Mode.MTLS ? CertificateCheck.REQUIRED : REQUIRED, missing);
        });
        return new Authentication(settings, builder.newDecorator());
    }

    /** Whether callers must authenticate (every mode but {@code none}). */
    public boolean enabled() {
        return auth != null;
    }

    /**
     * The decorator to apply to each service: it authenticates every request but the gRPC health
     * checks. The identity in mode {@code none}, where every caller is {@link Caller#ANONYMOUS}.
     */
    public Function<? super HttpService, ? extends HttpService> decorator() {
        if (auth == null) {
            return Function.identity();
        }
        return service -> new HealthExempt(service, auth.apply(service));
    }

    /**
     * The decorator of the web UI's routes ({@code /}, {@code /ui/...}): the API's own, so the browser
     * answers the challenge of basic auth with its prompt and presents its client certificate in mtls,
     * except in bearer mode. A browser cannot send a bearer token when it loads a page, so there the
     * static files (HTML, CSS and scripts, the same for everyone and holding no batch data) are served
     * without credentials, and the page sends the token the user gives it on every API call, which
     * is where the data is and where it is checked.
     */
    public Function<? super HttpService, ? extends HttpService> uiDecorator() {
        return settings.mode() == Mode.BEARER ? Function.identity() : decorator();
    }

    /** Says at start how callers are authenticated, and warns where that is weaker than it looks. */
    public void logStart(String host, boolean tls) {
        if (settings.mode() == Mode.NONE) {
            log.info("Authentication is off ({} = none): listening on loopback {} only; every caller is anonymous",
                    ConfigKeys.AUTH_MODE.name(), host);
            return;
        }
        log.info("Authentication: {} ({}); gRPC health checks need no credentials",
                settings.mode().name().toLowerCase(java.util.Locale.ROOT), tls ? "over TLS" : "no TLS");
        if (!tls && !AuthSettings.isLoopback(host)) {
            log.warn("{} = {} without TLS on {}: credentials travel in clear text; set {} and {}",
                    ConfigKeys.AUTH_MODE.name(), settings.mode().name().toLowerCase(java.util.Locale.ROOT), host,
                    ConfigKeys.TLS_CERT_FILE.name(), ConfigKeys.TLS_KEY_FILE.name());
        }
    }

    /** A refused request: gRPC status UNAUTHENTICATED for gRPC and gRPC-Web, else a JSON 401. */
    static HttpResponse refuse(ServiceRequestContext ctx, HttpRequest req, String message,
                               @Nullable String challenge) {
        log.debug("{} {} from {}: {}", req.method(), req.path(), ctx.remoteAddress(), message);
        MediaType contentType = req.contentType();
        SerializationFormat format = contentType == null ? null : SerializationFormat.find(contentType);
        if (format != null && GrpcSerializationFormats.isGrpc(format)) {
            // Trailers-only: gRPC clients read the status from these headers, and the body is never read.
            return HttpResponse.of(ResponseHeaders.builder(HttpStatus.OK)
                    .contentType(contentType)
                    .set(GrpcHeaderNames.GRPC_STATUS, Integer.toString(Status.Code.UNAUTHENTICATED.value()))
                    .set(GrpcHeaderNames.GRPC_MESSAGE, StatusMessageEscaper.escape(message))
                    .endOfStream(true)
                    .build());
        }
        ResponseHeadersBuilder headers = ResponseHeaders.builder(HttpStatus.UNAUTHORIZED)
                .contentType(MediaType.JSON_UTF_8);
        if (challenge != null) {
            headers.set(HttpHeaderNames.WWW_AUTHENTICATE, challenge);
        }
        try {
            return HttpResponse.of(headers.build(), HttpData.ofUtf8(JSON.writeValueAsString(Map.of("msg", message))));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An Armeria authorizer over one of our checks: success puts the caller on the context; a refusal
     * answers with the check's message (e.g. "token expired"), never a stack trace.
     */
    private static final class CheckingAuthorizer<T> extends AbstractAuthorizerWithHandlers<T> {
        @Nullable
        private final String challenge;
        private final boolean blocking;
        private final BiFunction<ServiceRequestContext, T, Caller> check;

        /**
         * @param challenge the {@code WWW-Authenticate} value of a refusal, if the scheme has one
         * @param blocking whether the check may block (BCrypt): it then runs on the blocking executor
         * @param check the caller the credentials prove, or an {@link AuthenticationException}
         */
        CheckingAuthorizer(@Nullable String challenge, boolean blocking,
                           BiFunction<ServiceRequestContext, T, Caller> check) {
            this.challenge = challenge;
            this.blocking = blocking;
            this.check = requireNonNull(check, "check");
        }

        @Override
        public CompletionStage<AuthorizationStatus> authorizeAndSupplyHandlers(ServiceRequestContext ctx, T data) {
            if (blocking) {
                return CompletableFuture.supplyAsync(() -> status(ctx, data), ctx.blockingTaskExecutor());
            }
            return CompletableFuture.completedFuture(status(ctx, data));
        }

        private AuthorizationStatus status(ServiceRequestContext ctx, T data) {
            try {
                ctx.setAttr(Callers.CALLER, check.apply(ctx, data));
                return AuthorizationStatus.ofSuccess();
            } catch (AuthenticationException e) {
                String message = e.getMessage();
                AuthFailureHandler refusal = (delegate, c, req, cause) -> refuse(c, req, message,
                        challenge);
                return AuthorizationStatus.ofFailure(refusal);
            }
        }
    }

    /** Serves the gRPC health checks without authentication, everything else through it. */
    private static final class HealthExempt extends SimpleDecoratingHttpService {
        private final HttpService unauthenticated;

        HealthExempt(HttpService unauthenticated, AuthService authenticated) {
            super(authenticated);
            this.unauthenticated = unauthenticated;
        }

        @Override
        public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
            if (ctx.path().startsWith(HEALTH_PREFIX)) {
                return unauthenticated.serve(ctx, req);
            }
            return unwrap().serve(ctx, req);
        }
    }
}
