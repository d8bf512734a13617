package io.sparkgate.client;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Resolves a {@code sparkgate-servers:///a:8998,b:8998} channel target to the addresses of every
 * server, in order, so that gRPC's {@code pick_first} balancer does the failing over: it connects to
 * the first server that accepts, and when that connection breaks the next call connects afresh, trying
 * them in order again. Each address carries its own host as authority, so TLS checks each server's
 * certificate against that server's name. Registered through {@code META-INF/services}.
 */
public final class ServerListResolverProvider extends NameResolverProvider {

    @Override
    protected boolean isAvailable() {
        return true;
    }

    @Override
    protected int priority() {
        return 5;
    }

    @Override
    public String getDefaultScheme() {
        return ServerList.SCHEME;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
        return List.of(InetSocketAddress.class);
    }

    @Override
    public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
        if (!ServerList.SCHEME.equals(targetUri.getScheme())) {
            return null;
        }
        String path = targetUri.getPath();
        ServerList servers = ServerList.parse(path.startsWith("/") ? path.substring(1) : path);
        return new Resolver(servers, args.getOffloadExecutor() != null ? args.getOffloadExecutor() : Runnable::run);
    }

    /** Looks every host up (DNS may block: on the offload executor), again on every refresh. */
    private static final class Resolver extends NameResolver {
        private final ServerList servers;
        private final Executor executor;
        private Listener2 listener;

        Resolver(ServerList servers, Executor executor) {
            this.servers = servers;
            this.executor = executor;
        }

        @Override
        public String getServiceAuthority() {
            return servers.servers().get(0).toString();
        }

        @Override
        public void start(Listener2 listener) {
            this.listener = listener;
            refresh();
        }

        @Override
        public void refresh() {
            executor.execute(this::resolve);
        }

        private void resolve() {
            List<EquivalentAddressGroup> groups = new ArrayList<>();
            List<String> unknown = new ArrayList<>();
            for (ServerList.HostAndPort server : servers.servers()) {
                try {
                    List<SocketAddress> addresses = new ArrayList<>();
                    for (InetAddress address : InetAddress.getAllByName(server.host())) {
                        addresses.add(new InetSocketAddress(address, server.port()));
                    }
                    groups.add(new EquivalentAddressGroup(addresses, Attributes.newBuilder()
                            .set(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE, server.toString()).build()));
                } catch (UnknownHostException e) {
                    unknown.add(server.host());
                }
            }
            if (groups.isEmpty()) {
                listener.onError(Status.UNAVAILABLE.withDescription("unknown hosts " + unknown));
                return;
            }
            listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
        }

        @Override
        public void shutdown() {}
    }
}
