package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

    @Test
    void quick_isTheDefault_withOneShortRun() {
        BenchOptions o = BenchOptions.parse();
        assertThat(o.full()).isFalse();
        assertThat(o.runs()).isEqualTo(1);
        assertThat(o.timing().measure()).isEqualTo(Duration.ofMillis(700));
        assertThat(o.backends()).containsExactlyInAnyOrder("memory", "redis", "zookeeper", "hazelcast");
        assertThat(o.workloads()).containsExactly("W1", "W2", "W3", "W4", "W5", "W6");
        assertThat(o.w5Others()).isEqualTo(10_000);
        assertThat(o.slices()).as("one window per contender").isEqualTo(1);
    }

    @Test
    void full_measuresThreeRunsWithTheIssuesSizes() {
        BenchOptions o = BenchOptions.parse("--full", "--out", "docs/bench");
        assertThat(o.runs()).isEqualTo(3);
        assertThat(o.timing().warmup()).isEqualTo(Duration.ofSeconds(2));
        assertThat(o.timing().warmupOps()).isEqualTo(10_000);
        assertThat(o.w5Others()).isEqualTo(100_000);
        assertThat(o.w6Locks()).isEqualTo(1_000_000);
        assertThat(o.slices()).isEqualTo(5);
        assertThat(BenchOptions.parse("--full", "--slices", "2").slices()).isEqualTo(2);
        assertThat(o.out()).isEqualTo(Path.of("docs/bench"));
    }

    @Test
    void options_acceptDurationsListsAndProviderIds() {
        BenchOptions o = BenchOptions.parse("--runs", "5", "--warmup", "0", "--measure", "PT1.5S", "--backends",
                "lp_memory,Redis", "--workloads", "w1,W3", "--w6-locks", "1_000");
        assertThat(o.runs()).isEqualTo(5);
        assertThat(o.timing().warmup()).isZero();
        assertThat(o.timing().measure()).isEqualTo(Duration.ofMillis(1500));
        assertThat(o.backends()).containsExactly("memory", "redis");
        assertThat(o.workloads()).containsExactly("W1", "W3");
        assertThat(o.w6Locks()).isEqualTo(1000);
        assertThat(BenchOptions.duration("--measure", "250ms", false)).isEqualTo(Duration.ofMillis(250));
        assertThat(BenchOptions.duration("--measure", "2s", false)).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void badArguments_areRejectedWithTheOptionNamed() {
        assertThatThrownBy(() -> BenchOptions.parse("--runs", "0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--runs");
        assertThatThrownBy(() -> BenchOptions.parse("--measure", "0")).hasMessageContaining("--measure");
        assertThatThrownBy(() -> BenchOptions.parse("--backends", "etcd")).hasMessageContaining("etcd");
        assertThatThrownBy(() -> BenchOptions.parse("--workloads", "W9")).hasMessageContaining("W9");
        assertThatThrownBy(() -> BenchOptions.parse("--out")).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> BenchOptions.parse("--fast")).hasMessageContaining("--fast");
    }

    @Test
    void crossProcessWorkloads_runWithFull_orWhenAskedFor_onTheJvmsGiven() {
        assertThat(BenchOptions.parse().workloads()).doesNotContain("W7", "W8");
        assertThat(BenchOptions.parse().jvms()).isEqualTo(4);
        assertThat(BenchOptions.parse("--full").workloads()).contains("W7", "W8");
        BenchOptions o = BenchOptions.parse("--workloads", "W7,w8", "--backends", "redis,zookeeper,hazelcast",
                "--jvms", "2");
        assertThat(o.workloads()).containsExactly("W7", "W8");
        assertThat(o.jvms()).isEqualTo(2);
        assertThat(o.prewarmOptions().workloads()).as("the pre-warm pass is W1-W4 only").isEmpty();
        assertThatThrownBy(() -> BenchOptions.parse("--jvms", "0")).hasMessageContaining("--jvms");
    }
}
