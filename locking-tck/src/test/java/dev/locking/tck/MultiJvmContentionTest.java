package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's mechanics, with {@code lp_memory} in the children. Since every JVM has its own in-memory
 * locks, only one child contends here: the cross-JVM exclusion is for distributed providers to show.
 */
class MultiJvmContentionTest {

    @TempDir
    Path work;

    private MultiJvmContention.Builder memory() {
        return MultiJvmContention.builder()
                .systemProperty("locking.default", "lp_memory")
                .workDirectory(work)
                .timeout(Duration.ofMinutes(2));
    }

    @Test
    void oneChild_countsExactly_withoutOverlap() throws Exception {
        MultiJvmContention.Result result = memory().jvms(1).iterations(25).build().run();

        assertThat(result.allExitedNormally()).as("child stderr: %s", result.stderrTail()).isTrue();
        assertThat(result.exitCodes()).containsExactly(0);
        assertThat(result.overlaps()).isZero();
        assertThat(result.executed()).isEqualTo(25);
        assertThat(result.counter()).isEqualTo(25).isEqualTo(result.expectedCounter());
    }

    @Test
    void aHolderChild_reportsItsLock_andDiesWhenKilled() {
        try (MultiJvmContention.Holder holder = memory().build().startHolder("tck-holder-key", Duration.ofSeconds(30))) {
            assertThat(holder.awaitHeld(Duration.ofMinutes(1))).isPositive();
            assertThat(holder.process().isAlive()).isTrue();

            holder.kill();

            assertThat(holder.process().isAlive()).isFalse();
        }
    }

    @Test
    void childrenStillRunningAtTheTimeout_areKilled_andTheResultSaysSo() throws Exception {
        MultiJvmContention.Result result = memory().jvms(1).iterations(1).timeout(Duration.ofMillis(1)).build().run();

        assertThat(result.timedOut()).isTrue();
        assertThat(result.allExitedNormally()).isFalse();
        assertThat(result.exitCodes()).hasSize(1).doesNotContain(0);
    }

    @Test
    void aChildWithAnUnknownDefaultProvider_failsWithItsStderr() throws Exception {
        MultiJvmContention.Result result = MultiJvmContention.builder()
                .systemProperty("locking.default", "lp_no_such_provider")
                .workDirectory(work)
                .jvms(1)
                .iterations(1)
                .build()
                .run();

        assertThat(result.allExitedNormally()).isFalse();
        assertThat(result.exitCodes()).containsExactly(ContentionWorker.EXIT_FAILED);
        assertThat(result.stderrTail()).contains("ProviderNotFoundException").contains("lp_no_such_provider");
    }

    @Test
    void builderRejectsNonsense() {
        assertThatThrownBy(() -> MultiJvmContention.builder().jvms(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MultiJvmContention.builder().iterations(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MultiJvmContention.builder().timeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
