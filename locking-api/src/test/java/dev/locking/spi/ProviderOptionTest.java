package dev.locking.spi;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProviderOptionTest {

    @Test
    void valuesOfTheRightFormat_pass() {
        assertThatCode(() -> {
            ProviderOption.duration("timeout").check(" 5s ");
            ProviderOption.integer("poolSize").check("10");
            ProviderOption.bool("createTable").check("TRUE");
            ProviderOption.string("password").check("anything at all");
        }).doesNotThrowAnyException();
    }

    @Test
    void valuesOfTheWrongFormat_areRejected_namingTheOptionAndValue() {
        assertThatThrownBy(() -> ProviderOption.integer("poolSize").check("ten"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("option poolSize must be a whole number: \"ten\"");
        assertThatThrownBy(() -> ProviderOption.bool("createTable").check("yes"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("option createTable must be true or false: \"yes\"");
        assertThatThrownBy(() -> ProviderOption.duration("timeout").check("soon"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("option timeout is not a duration: \"soon\"");
    }

    @Test
    void badDeclarations_areRejected() {
        assertThatThrownBy(() -> ProviderOption.string(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProviderOption.string("TYPE")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("type");
    }
}
