package io.sparkgate.server.security;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.netty.util.AttributeKey;

/**
 * The caller of the request being served, as the authentication decorator put it on the request
 * context. Every service (gRPC, transcoded REST, SSE) reads it from here.
 */
public final class Callers {

    /** Set by the authentication decorator before the request reaches a service. */
    public static final AttributeKey<Caller> CALLER = AttributeKey.valueOf(Callers.class, "CALLER");

    private Callers() {}

    /** The caller of the current request; {@link Caller#ANONYMOUS} when none was authenticated. */
    public static Caller current() {
        ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        if (ctx == null) {
            return Caller.ANONYMOUS;
        }
        Caller caller = ctx.attr(CALLER);
        return caller == null ? Caller.ANONYMOUS : caller;
    }

    /** The caller of a request whose context is at hand (SSE routes run outside gRPC's context). */
    public static Caller of(ServiceRequestContext ctx) {
        Caller caller = ctx.attr(CALLER);
        return caller == null ? Caller.ANONYMOUS : caller;
    }
}
