package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.ProviderOption;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The IDE metadata names every option our providers declare, so it cannot drift from them unseen. */
class ConfigurationMetadataTest {

    @Test
    void everyDeclaredOptionOfEveryProviderOnTheClasspath_isDescribed() throws IOException {
        Set<String> described = describedProperties();
        assertThat(described).contains("locking.default", "locking.providers");
        List<String> types = ServiceLoader.load(LockingProviderFactory.class).stream()
                .map(provider -> provider.get().type()).toList();
        assertThat(types).contains("memory", "redis", "hazelcast", "zookeeper");
        for (ServiceLoader.Provider<LockingProviderFactory> provider
                : ServiceLoader.load(LockingProviderFactory.class).stream().toList()) {
            LockingProviderFactory factory = provider.get();
            for (ProviderOption option : factory.options().orElse(List.of())) {
                assertThat(described).as("option %s of %s", option.name(), factory.type())
                        .contains("locking.providers." + factory.type() + "." + kebab(option.name()));
            }
        }
    }

    private static Set<String> describedProperties() throws IOException {
        try (InputStream in = ConfigurationMetadataTest.class.getResourceAsStream(
                "/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).isNotNull();
            String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String properties = json.substring(json.indexOf("\"properties\""), json.indexOf("\"hints\""));
            Set<String> names = new HashSet<>();
            Matcher m = Pattern.compile("\"name\": \"([^\"]+)\"").matcher(properties);
            while (m.find()) {
                names.add(m.group(1));
            }
            return names;
        }
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
    }
}
