package dev.locking.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void executeOptions_defaultTheTimeoutWhenMissingZeroOrNegative() {
        assertThat(ExecuteOptions.DEFAULTS.effectiveTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(ExecuteOptions.builder().timeout(Duration.ZERO).build().effectiveTimeout()).hasSeconds(5);
        assertThat(ExecuteOptions.builder().timeout(Duration.ofSeconds(-3)).build().effectiveTimeout()).hasSeconds(5);
        assertThat(ExecuteOptions.builder().timeout(Duration.ofMillis(1500)).build().effectiveTimeout()).hasMillis(1500);
        assertThat(ExecuteOptions.DEFAULTS.effectiveExpire()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void builders_buildWhatWasSet_andVariantsComeFromToBuilder() {
        AcquireOptions a = AcquireOptions.builder().ownerId("u").expire(Duration.ofSeconds(60)).provider("lp_x").build();
        assertThat(a).isEqualTo(new AcquireOptions("u", Duration.ofSeconds(60), "lp_x"));
        assertThat(a.toBuilder().ownerId("v").build()).isEqualTo(new AcquireOptions("v", Duration.ofSeconds(60), "lp_x"));
        ExecuteOptions e = ExecuteOptions.builder().timeout(Duration.ofSeconds(1)).build();
        assertThat(e.toBuilder().provider("lp_y").build()).isEqualTo(new ExecuteOptions(Duration.ofSeconds(1), null, "lp_y"));
        assertThat(ReleaseOptions.builder().ownerId("u").build()).isEqualTo(new ReleaseOptions("u", null));
        assertThat(ReleaseAllOptions.builder().provider("lp_x").build()).isEqualTo(new ReleaseAllOptions(null, "lp_x"));
    }

    @Test
    void acquireOptions_carryTheWait_throughTheBuilderAndToBuilder() {
        AcquireOptions a = AcquireOptions.builder().ownerId("u").wait(Duration.ofSeconds(2)).build();
        assertThat(a.maxWait()).hasSeconds(2);
        assertThat(a.toBuilder().ownerId("v").build()).isEqualTo(new AcquireOptions("v", null, null, Duration.ofSeconds(2)));
        assertThat(AcquireOptions.DEFAULTS.maxWait()).as("no wait unless given").isNull();
        assertThat(new AcquireOptions("u", null, null).maxWait()).isNull();
        assertThat(a.toBuilder().wait(null).build().maxWait()).isNull();
    }

    @Test
    void lease_copiesItsCollections() {
        List<String> keys = new ArrayList<>(List.of("a"));
        Map<String, Long> tokens = new HashMap<>(Map.of("a", 1L));
        Lease lease = new Lease("lp_x", keys, null, null, tokens);
        keys.add("b");
        tokens.put("b", 2L);
        assertThat(lease.keys()).containsExactly("a");
        assertThat(lease.fencingTokens()).containsExactly(Map.entry("a", 1L));
    }

    @Test
    void exceptions_carryTheAgreedMessages() {
        assertThat(new LockAcquisitionException("k1")).hasMessage("Failed to acquire lock for key \"k1\"")
                .extracting(LockAcquisitionException::getKey).isEqualTo("k1");
        assertThat(new LockTimeoutException()).hasMessage("Timed-out acquiring lock.");
        ProviderNotFoundException notFound = new ProviderNotFoundException("lp_nope", List.of("lp_redis", "lp_memory"));
        assertThat(notFound.getAvailable()).containsExactly("lp_memory", "lp_redis");
        assertThat(notFound).hasMessageContaining("lp_nope").hasMessageContaining("[lp_memory, lp_redis]");
        assertThat(new ProviderUnavailableException("down")).isInstanceOf(LockingException.class);
    }
}
