package io.sparkgate.client;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * The servers a client may talk to: one or more {@code host:port}, as given to
 * {@link SparkgateClient#builder(String)} ({@code "a:8998,b:8998"}) or as a list. Replicas of one
 * Sparkgate serve every call alike, so any of them will do; the client uses the first that answers and
 * moves on to the next when it becomes unreachable.
 *
 * @param servers at least one {@code host:port}, in the order they are tried
 */
public record ServerList(List<HostAndPort> servers) {

    /** The URI scheme of a channel target naming several servers (see {@link ServerListResolverProvider}). */
    static final String SCHEME = "sparkgate-servers";

    public ServerList {
        servers = List.copyOf(servers);
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("no server given");
        }
    }

    /** {@code host:port[,host:port...]}; IPv6 hosts in brackets ({@code [::1]:8998}). */
    public static ServerList parse(String servers) {
        requireNonNull(servers, "servers");
        List<String> parts = new ArrayList<>();
        for (String part : servers.split(",", -1)) {
            parts.add(part.strip());
        }
        return of(parts);
    }

    /** Each element a {@code host:port}. */
    public static ServerList of(List<String> servers) {
        requireNonNull(servers, "servers");
        List<HostAndPort> out = new ArrayList<>();
        for (String server : servers) {
            out.add(HostAndPort.parse(server));
        }
        return new ServerList(out);
    }

    /**
     * The gRPC channel target: the server itself when there is one (so a single server behaves exactly
     * as a plain {@code host:port} target), else a {@code sparkgate-servers:} target that
     * {@link ServerListResolverProvider} resolves to every server's addresses.
     */
    String channelTarget() {
        if (servers.size() == 1) {
            return servers.get(0).toString();
        }
        StringBuilder target = new StringBuilder(SCHEME).append(":///");
        for (int i = 0; i < servers.size(); i++) {
            target.append(i == 0 ? "" : ",").append(servers.get(i));
        }
        return target.toString();
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        for (HostAndPort server : servers) {
            out.append(out.isEmpty() ? "" : ",").append(server);
        }
        return out.toString();
    }

    /** One server. */
    public record HostAndPort(String host, int port) {

        public HostAndPort {
            requireNonNull(host, "host");
            if (host.isEmpty()) {
                throw new IllegalArgumentException("a server needs a host");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " of " + host + " is not between 1 and 65535");
            }
        }

        /**
         * {@code host:port}, {@code [v6]:port}; an {@code http://} or {@code https://} in front (as the
         * command line's {@code --server} accepts for REST) is dropped: TLS is the client's setting.
         */
        public static HostAndPort parse(String given) {
            requireNonNull(given, "server");
            String server = given.replaceFirst("^https?://", "");
            if (server.endsWith("/")) {
                server = server.substring(0, server.length() - 1);
            }
            int colon = server.lastIndexOf(':');
            if (server.isEmpty() || colon < 0 || colon == server.length() - 1) {
                throw new IllegalArgumentException("server '" + server + "' is not HOST:PORT");
            }
            String host = server.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            } else if (host.contains(":")) {
                throw new IllegalArgumentException("server '" + server + "': put an IPv6 address in brackets, [::1]:8998");
            }
            int port;
            try {
                port = Integer.parseInt(server.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("server '" + server + "' has no numeric port");
            }
            return new HostAndPort(host, port);
        }

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
