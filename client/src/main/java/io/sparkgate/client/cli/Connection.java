package io.sparkgate.client.cli;

import static java.util.Objects.requireNonNull;

import io.sparkgate.client.ClientTls;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * How the command line reaches a server, the same for gRPC and REST: where, whether over TLS (and
 * with which CA and client certificate), and the {@code Authorization} header value if any.
 *
 * @param target {@code host:port} (or a URL for REST)
 * @param tls whether to use TLS
 * @param tlsFiles the CA to trust and the client certificate; JVM defaults when empty
 * @param authorization e.g. {@code Basic ...}, {@code Bearer ...} or {@code Negotiate ...}
 */
record Connection(String target, boolean tls, ClientTls tlsFiles, Optional<Credentials> authorization) {

    Connection {
        requireNonNull(target, "target");
        requireNonNull(tlsFiles, "tlsFiles");
        requireNonNull(authorization, "authorization");
    }

    /** Credentials sent with every call. */
    sealed interface Credentials {
        /** The {@code Authorization} header value. */
        String headerValue();

        /** The {@code Authorization} header value for a request to {@code serverHost}. */
        default String headerValue(String serverHost) {
            return headerValue();
        }
    }

    record Basic(String user, String password) implements Credentials {
        @Override
        public String headerValue() {
            return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return "Basic[" + user + "]";
        }
    }

    /** Kerberos (SPNEGO): a new {@code Negotiate} token for each request, from the user's tickets. */
    record Negotiate(io.sparkgate.client.Negotiator negotiator) implements Credentials {
        /** Negotiate tokens are for one server: see {@link #headerValue(String)}. */
        @Override
        public String headerValue() {
            throw new UnsupportedOperationException("a Negotiate token is made for one server");
        }

        @Override
        public String headerValue(String serverHost) {
            return negotiator.header(serverHost);
        }

        @Override
        public String toString() {
            return "Negotiate";
        }
    }

    record Bearer(String token) implements Credentials {
        @Override
        public String headerValue() {
            return "Bearer " + token;
        }

        @Override
        public String toString() {
            return "Bearer[...]";
        }
    }
}
