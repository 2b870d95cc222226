package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.spi.ProviderOption;
import dev.locking.spi.ProviderOption.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The factory declares its options, so the core warns about unknown ones and checks value formats. */
class HazelcastProviderFactoryOptionsTest {

    @Test
    void theFactory_declaresEveryDocumentedOption_withItsFormat() {
        List<ProviderOption> options = new HazelcastProviderFactory().options().orElseThrow();
        assertThat(options).extracting(ProviderOption::name).containsExactlyInAnyOrder("members", "clusterName", "mapName", "config",
                "connectTimeout", "operationTimeout");
        assertThat(options).filteredOn(o -> o.kind() == Kind.DURATION).extracting(ProviderOption::name)
                .containsExactlyInAnyOrder("connectTimeout", "operationTimeout");
        assertThat(options).filteredOn(o -> o.kind() == Kind.INTEGER).extracting(ProviderOption::name)
                .isEmpty();
    }
}
