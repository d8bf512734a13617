package io.sparkgate.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ServerListTest {

    @Test
    void oneServerIsAPlainTargetSoASingleServerBehavesAsBefore() {
        ServerList one = ServerList.parse("localhost:8998");

        assertThat(one.servers()).containsExactly(new ServerList.HostAndPort("localhost", 8998));
        assertThat(one.channelTarget()).isEqualTo("localhost:8998");
    }

    @Test
    void severalServersKeepTheirOrderAndBecomeOneResolverTarget() {
        ServerList list = ServerList.parse("a.example:8998, b.example:9000,[::1]:8998");

        assertThat(list.servers()).containsExactly(new ServerList.HostAndPort("a.example", 8998),
                new ServerList.HostAndPort("b.example", 9000), new ServerList.HostAndPort("::1", 8998));
        assertThat(list.channelTarget()).isEqualTo("sparkgate-servers:///a.example:8998,b.example:9000,[::1]:8998");
        assertThat(ServerList.of(List.of("a:1", "b:2"))).isEqualTo(ServerList.parse("a:1,b:2"));
    }

    @Test
    void aUrlSchemeInFrontIsDroppedAsTheRestCommandLineAcceptsIt() {
        assertThat(ServerList.parse("https://a.example:8998,http://b.example:8998/").servers())
                .containsExactly(new ServerList.HostAndPort("a.example", 8998), new ServerList.HostAndPort("b.example", 8998));
    }

    @Test
    void aServerThatIsNoHostAndPortIsRefusedNamingIt() {
        assertThatThrownBy(() -> ServerList.parse("a:8998,b")).hasMessageContaining("'b' is not HOST:PORT");
        assertThatThrownBy(() -> ServerList.parse("a:8998,,b:1")).hasMessageContaining("'' is not HOST:PORT");
        assertThatThrownBy(() -> ServerList.parse("a:http")).hasMessageContaining("no numeric port");
        assertThatThrownBy(() -> ServerList.parse("a:70000")).hasMessageContaining("not between 1 and 65535");
        assertThatThrownBy(() -> ServerList.parse("::1:8998")).hasMessageContaining("IPv6 address in brackets");
        assertThatThrownBy(() -> ServerList.of(List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no server given");
    }
}
