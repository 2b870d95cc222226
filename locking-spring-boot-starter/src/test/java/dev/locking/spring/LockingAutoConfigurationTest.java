package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockLostException;
import dev.locking.api.LockingEvent;
import dev.locking.api.LockingListener;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.core.Locking;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

class LockingAutoConfigurationTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LockingAutoConfiguration.class));

    @Test
    void oneLockingServiceBean_withLpMemoryAsDefault() {
        runner.run(context -> {
            assertThat(context).hasSingleBean(LockingService.class);
            LockingService locking = context.getBean(LockingService.class);
            assertThat(locking.providerIds()).contains("lp_memory");
            List<String> keys = locking.execute("auto:one", lock -> lock.keys());
            assertThat(keys).containsExactly("auto:one");
        });
    }

    @Test
    void propertiesOfTheEnvironment_configureProvidersAndTheDefault() {
        runner.withPropertyValues("locking.default=lp_orders", "locking.providers.orders.type=memory")
                .run(context -> {
                    LockingService locking = context.getBean(LockingService.class);
                    assertThat(locking.providerIds()).contains("lp_orders", "lp_memory");
                    assertThat(locking.defaultProviderId()).isEqualTo("lp_orders");
                });
    }

    @Test
    void environmentVariables_bindWithRelaxedNames() {
        // Spring reads the process environment through the source of this name; this one stands in for it.
        runner.withInitializer(context -> context.getEnvironment().getPropertySources().replace(
                        StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, new SystemEnvironmentPropertySource(
                                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, Map.of(
                                "LOCKING_DEFAULT", "lp_batch",
                                "LOCKING_PROVIDERS_BATCH_TYPE", "memory"))))
                .run(context -> {
                    LockingService locking = context.getBean(LockingService.class);
                    assertThat(locking.defaultProviderId()).isEqualTo("lp_batch");
                });
    }

    @Test
    void aProviderOption_reachesTheProvider_inItsKebabCaseSpelling() {
        // A value the memory provider cannot use makes its id unavailable, naming the option: proof it arrived.
        runner.withPropertyValues("locking.providers.broken.type=memory",
                        "locking.providers.broken.sweep-interval=not-a-duration")
                .run(context -> {
                    LockingService locking = context.getBean(LockingService.class);
                    assertThatThrownBy(() -> locking.acquire("auto:broken",
                            AcquireOptions.builder().provider("lp_broken").build()))
                            .isInstanceOf(ProviderUnavailableException.class)
                            .hasMessageContaining("not-a-duration");
                });
    }

    @Test
    void anUnknownDefault_failsTheContext_withTheKnownIds() {
        runner.withPropertyValues("locking.default=lp_nowhere").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("lp_nowhere")
                    .hasMessageContaining("lp_memory");
        });
    }

    @Test
    void aLockingServiceOfTheApplication_wins() {
        LockingService own = Locking.builder().build();
        try {
            runner.withBean(LockingService.class, () -> own).run(context -> {
                assertThat(context).hasSingleBean(LockingService.class);
                assertThat(context.getBean(LockingService.class)).isSameAs(own);
            });
        } finally {
            own.close();
        }
    }

    @Test
    void listenerBeans_hearTheService_andCustomizersRun() {
        List<LockingEvent> events = new CopyOnWriteArrayList<>();
        runner.withBean("recorder", LockingListener.class, () -> new LockingListener() {
                    @Override
                    public void onOperation(LockingEvent event) {
                        events.add(event);
                    }
                })
                .withBean(LockingBuilderCustomizer.class, () -> builder -> builder.provider("lp_custom", "memory", Map.of()))
                .run(context -> {
                    LockingService locking = context.getBean(LockingService.class);
                    assertThat(locking.providerIds()).contains("lp_custom");
                    locking.execute("auto:heard", lock -> 1);
                    assertThat(events).anySatisfy(event -> {
                        assertThat(event.operation()).isEqualTo(LockingEvent.Operation.EXECUTE);
                        assertThat(event.keys()).containsExactly("auto:heard");
                    });
                });
    }

    @Test
    void closingTheContext_closesTheService_andReleasesTheLocksItHeld() throws Exception {
        ExecutorService holder = Executors.newSingleThreadExecutor();
        CountDownLatch taken = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        try (LockingService other = Locking.builder().build()) {
            LockingService[] service = new LockingService[1];
            List<Future<?>> job = new CopyOnWriteArrayList<>();
            runner.run(started -> {
                LockingService locking = started.getBean(LockingService.class);
                service[0] = locking;
                job.add(holder.submit(() -> locking.execute("auto:held", lock -> {
                    taken.countDown();
                    finish.await(30, TimeUnit.SECONDS);
                    return null;
                }, ExecuteOptions.builder().expire(Duration.ofMinutes(5)).build())));
                assertThat(taken.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(other.inspect("auto:held")).isPresent();
            });
            // run() closed the context: the service is closed and the key it held is free for others.
            assertThatThrownBy(() -> service[0].inspect("auto:held")).isInstanceOf(IllegalStateException.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> other.inspect("auto:held").isEmpty());
            finish.countDown();
            // The job outlived its service: its handle turned lost, so its execute reports the lock as lost.
            assertThatThrownBy(() -> job.get(0).get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(LockLostException.class);
        } finally {
            finish.countDown();
            holder.shutdown();
            assertThat(holder.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
