package dev.locking.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockLostException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.api.ReleaseOptions;
import dev.locking.core.Locking;
import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.LockingProvider;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The meters' values after known operations, on the real lp_memory, with real threads. */
class LockingMetricsTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final AtomicInteger IDS = new AtomicInteger();

    private final String id = "lp_metered" + IDS.incrementAndGet();
    private final LockingProvider memory = MemoryProviderFactory.newProvider(id);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final LockingMetrics metrics = new LockingMetrics(registry);
    private final LockingService locking =
            Locking.builder().provider(memory).defaultProvider(id).listener(metrics).build();

    @AfterEach
    void close() {
        locking.close();
    }

    private double operations(String operation, String outcome) {
        return count(LockingMetrics.OPERATIONS, operation, outcome);
    }

    private double releases(String operation, String outcome) {
        return count(LockingMetrics.RELEASES, operation, outcome);
    }

    private double count(String name, String operation, String outcome) {
        var counter = registry.find(name).tags("provider", id, "operation", operation, "outcome", outcome).counter();
        return counter == null ? 0 : counter.count();
    }

    private double active() {
        return registry.get(LockingMetrics.ACTIVE).tags("provider", id).gauge().value();
    }

    @Test
    void everyOutcome_isCountedByProviderOperationAndOutcome() {
        locking.execute("k", lock -> "ran");
        locking.execute("k", lock -> "ran");
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        assertThatThrownBy(() -> locking.acquire("k")).isNotNull();
        assertThatThrownBy(() -> locking.acquire("k", AcquireOptions.builder().wait(Duration.ofMillis(100)).build()))
                .isInstanceOf(LockTimeoutException.class);
        assertThatThrownBy(() -> locking.execute("k", lock -> "ran",
                ExecuteOptions.builder().timeout(Duration.ofMillis(100)).build())).isInstanceOf(LockTimeoutException.class);
        assertThat(locking.release("k")).isFalse();
        assertThat(locking.release("k", ReleaseOptions.builder().ownerId("holder").build())).isTrue();
        locking.releaseAll(ReleaseAllOptions.builder().ownerId("nobody").build());

        assertThat(operations("execute", "taken")).isEqualTo(2);
        assertThat(operations("execute", "timeout")).isEqualTo(1);
        assertThat(operations("acquire", "taken")).isEqualTo(1);
        assertThat(operations("acquire", "conflict")).isEqualTo(1);
        assertThat(operations("acquire", "timeout")).isEqualTo(1);
        assertThat(operations("release", "not_released")).isEqualTo(1);
        assertThat(operations("release", "released")).isEqualTo(1);
        assertThat(operations("release_all", "released")).isEqualTo(1);
        assertThat(releases("execute", "released")).isEqualTo(2);
        assertThat(releases("release", "released")).isEqualTo(1);
        assertThat(releases("release", "not_released")).isEqualTo(1);
        assertThat(releases("release_all", "released")).isEqualTo(1);
        assertThat(registry.get(LockingMetrics.WAIT).tags("provider", id, "operation", "acquire", "outcome", "timeout")
                .timer().totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(90);
        assertThat(registry.get(LockingMetrics.HELD).tags("provider", id, "outcome", "taken").timer().count())
                .isEqualTo(2);
    }

    @Test
    void timeWaitedAndHeld_andTheActiveGauge_followRealThreads() throws Exception {
        CountDownLatch inJob = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        CompletableFuture<String> holder = CompletableFuture.supplyAsync(() -> locking.execute("k", lock -> {
            inJob.countDown();
            await().atMost(PATIENCE).until(() -> finish.getCount() == 0);
            return "held";
        }));
        assertThat(inJob.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(active()).as("one execute holds its key").isEqualTo(1);
        CompletableFuture<String> waiter = CompletableFuture.supplyAsync(
                () -> locking.execute("k", lock -> "waited", ExecuteOptions.builder().timeout(PATIENCE).build()));
        long start = System.nanoTime();
        await().atMost(PATIENCE).until(() -> System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(200));
        finish.countDown();
        assertThat(holder.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("held");
        assertThat(waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("waited");

        var held = registry.get(LockingMetrics.HELD).tags("provider", id, "outcome", "taken").timer();
        assertThat(held.count()).isEqualTo(2);
        assertThat(held.max(TimeUnit.MILLISECONDS)).as("the first job held its key while the second waited")
                .isGreaterThanOrEqualTo(200);
        var waited = registry.get(LockingMetrics.WAIT).tags("provider", id, "operation", "execute", "outcome", "taken")
                .timer();
        assertThat(waited.count()).isEqualTo(2);
        assertThat(waited.max(TimeUnit.MILLISECONDS)).isGreaterThan(0);
        assertThat(active()).isZero();
    }

    @Test
    void aLostLease_isCountedAsLost_andLeavesTheGaugeAtZero() {
        assertThatThrownBy(() -> locking.execute("k", lock -> {
            memory.releaseAll(null); // behind the service's back: the next renewal finds the lock gone
            await().atMost(PATIENCE).until(lock::isLost);
            return "must not be returned";
        }, ExecuteOptions.builder().expire(Duration.ofMillis(600)).build())).isInstanceOf(LockLostException.class);

        assertThat(operations("execute", "lost")).isEqualTo(1);
        assertThat(releases("execute", "lost")).isEqualTo(1);
        assertThat(active()).isZero();
    }

    @Test
    void noMeterIsTaggedByKey_andTagsAreProviderOperationOutcomeOnly() {
        for (int i = 0; i < 20; i++) {
            String key = "order:" + i;
            locking.execute(key, lock -> "ran");
            locking.acquire(key);
            locking.release(key);
        }
        List<String> tagNames = registry.getMeters().stream().map(Meter::getId)
                .flatMap(m -> m.getTags().stream()).map(Tag::getKey).distinct().sorted().collect(Collectors.toList());
        assertThat(tagNames).containsExactly("operation", "outcome", "provider");
        assertThat(registry.getMeters().stream().flatMap(m -> m.getId().getTags().stream())
                .map(Tag::getValue)).noneMatch(v -> v.startsWith("order:"));
        assertThat(registry.getMeters()).as("a bounded number of meters, whatever the number of keys").hasSizeLessThan(12);
    }

    @Test
    void extraTags_areAdded_andReservedNamesRefused() {
        SimpleMeterRegistry other = new SimpleMeterRegistry();
        LockingMetrics tagged = new LockingMetrics(Tags.of("app", "orders"));
        tagged.bindTo(other);
        try (LockingService service = Locking.builder().provider(MemoryProviderFactory.newProvider(id + "x"))
                .defaultProvider(id + "x").listener(tagged).build()) {
            service.execute("k", lock -> "ran");
        }
        assertThat(other.get(LockingMetrics.OPERATIONS).tags("app", "orders", "outcome", "taken").counter().count())
                .isEqualTo(1);
        assertThatThrownBy(() -> new LockingMetrics(Tags.of("provider", "x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("provider");
        assertThatThrownBy(() -> tagged.bindTo(registry)).isInstanceOf(IllegalStateException.class);
    }
}
