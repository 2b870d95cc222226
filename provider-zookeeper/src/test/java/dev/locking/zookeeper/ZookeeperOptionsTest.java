package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.tck.TestConfig;
import java.time.Duration;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Options are read and checked when the provider is created, before anything connects. */
class ZookeeperOptionsTest {

    private static ZookeeperOptions parse(Map<String, String> options) {
        return ZookeeperOptions.from(new TestConfig("lp_zookeeper", options));
    }

    @Test
    void theFactory_isFoundByServiceLoader_asTypeZookeeper() {
        assertThat(ServiceLoader.load(LockingProviderFactory.class).stream().map(ServiceLoader.Provider::get))
                .anySatisfy(f -> {
                    assertThat(f).isInstanceOf(ZookeeperProviderFactory.class);
                    assertThat(f.type()).isEqualTo("zookeeper");
                });
    }

    @Test
    void defaults() {
        ZookeeperOptions o = parse(Map.of());
        assertThat(o.connectString()).isEqualTo("127.0.0.1:2181");
        assertThat(o.namespace()).isEqualTo("locking");
        assertThat(o.sessionTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(o.connectionTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(o.auth()).isNull();
    }

    @Test
    void creatingAProvider_connectsToNothing() {
        // Nothing listens on port 1: creating (and closing) the provider must not notice.
        LockingProvider p = new ZookeeperProviderFactory().create(new TestConfig("lp_zookeeper",
                Map.of("connectString", "127.0.0.1:1")));
        assertThat(p.id()).isEqualTo("lp_zookeeper");
        p.close();
    }

    @ParameterizedTest
    @CsvSource({"PT3S,3000", "pt0.5s,500", "2500,2500", "750ms,750", "4s,4000", "1m,60000", " 9 s ,9000", "2h,7200000"})
    void durations_acceptIsoPlainMillisAndUnits(String value, long millis) {
        assertThat(parse(Map.of("session-timeout", value)).sessionTimeout()).isEqualTo(Duration.ofMillis(millis));
        assertThat(parse(Map.of("CONNECTION_TIMEOUT", value)).connectionTimeout()).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "soon", "-5s", "0", "PT0S", "5d", "99999999999"})
    void badDurations_areRejected_namingTheOption(String value) {
        assertThatThrownBy(() -> parse(Map.of("sessionTimeout", value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sessionTimeout")
                .hasMessageContaining("lp_zookeeper");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "a//b", "a/./b", "zookeeper", "zookeeper/x", "bad\u0000name", "x/"})
    void badNamespaces_areRejected(String value) {
        assertThatThrownBy(() -> parse(Map.of("namespace", value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("namespace");
    }

    @Test
    void aNamespace_mayBeNested_andALeadingSlashIsDropped() {
        assertThat(parse(Map.of("namespace", "/apps/locking")).namespace()).isEqualTo("apps/locking");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "host:notaport/x/"})
    void badConnectStrings_areRejected(String value) {
        assertThatThrownBy(() -> parse(Map.of("connectString", value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectString");
    }

    @ParameterizedTest
    @ValueSource(strings = {"s3cr3t-only", ":s3cr3t", "locker:", ""})
    void badAuth_isRejected_withoutShowingTheValue(String value) {
        assertThatThrownBy(() -> parse(Map.of("auth", value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("auth")
                .satisfies(e -> {
                    if (!value.isEmpty()) {
                        assertThat(e.getMessage()).doesNotContain(value);
                    }
                });
    }

    @Test
    void theOptionsToString_neverShowsTheCredentials_orTheConnectString() {
        ZookeeperOptions o = parse(Map.of("auth", "user:s3cr3t", "connectString", "zk1:2181,zk2:2181/chroot"));
        assertThat(o.toString()).doesNotContain("s3cr3t").doesNotContain("zk1").contains("servers=2")
                .contains("digest");
    }
}
