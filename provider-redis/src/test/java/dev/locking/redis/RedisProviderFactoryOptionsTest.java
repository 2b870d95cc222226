package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.spi.ProviderOption;
import dev.locking.spi.ProviderOption.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The factory declares its options, so the core warns about unknown ones and checks value formats. */
class RedisProviderFactoryOptionsTest {

    @Test
    void theFactory_declaresEveryDocumentedOption_withItsFormat() {
        List<ProviderOption> options = new RedisProviderFactory().options().orElseThrow();
        assertThat(options).extracting(ProviderOption::name).containsExactlyInAnyOrder("address", "username", "password", "database", "mode", "nodes",
                "masterName", "keyPrefix", "connectTimeout", "timeout", "retryAttempts", "sslTruststore",
                "sslTruststorePassword", "config");
        assertThat(options).filteredOn(o -> o.kind() == Kind.DURATION).extracting(ProviderOption::name)
                .containsExactlyInAnyOrder("connectTimeout", "timeout");
        assertThat(options).filteredOn(o -> o.kind() == Kind.INTEGER).extracting(ProviderOption::name)
                .containsExactlyInAnyOrder("database", "retryAttempts");
    }
}
