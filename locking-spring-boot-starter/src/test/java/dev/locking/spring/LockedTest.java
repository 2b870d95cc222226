package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockHandle;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingEvent;
import dev.locking.api.LockingListener;
import dev.locking.api.LockingService;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.springframework.aop.support.AopUtils;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

class LockedTest {
    private static final List<LockingEvent> EVENTS = new CopyOnWriteArrayList<>();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LockingAutoConfiguration.class))
            .withUserConfiguration(JobsConfiguration.class);

    @Configuration(proxyBeanMethods = false)
    static class JobsConfiguration {
        @Bean
        Jobs jobs() {
            return new Jobs();
        }

        @Bean
        LockingListener recorder() {
            return new LockingListener() {
                @Override
                public void onOperation(LockingEvent event) {
                    EVENTS.add(event);
                }
            };
        }
    }

    private void withJobs(Consumer<Jobs> test) {
        runner.run(context -> withJobs(context, test));
    }

    private static void withJobs(AssertableApplicationContext context, Consumer<Jobs> test) {
        Jobs jobs = context.getBean(Jobs.class);
        assertThat(AopUtils.isAopProxy(jobs)).as("the @Locked bean is proxied").isTrue();
        test.accept(jobs);
    }

    @Test
    void underContentionFromManyThreads_theCounterIsExact_andNoCallOverlaps() {
        runner.run(context -> {
            Jobs jobs = context.getBean(Jobs.class);
            LockingService locking = context.getBean(LockingService.class);
            int threads = 8;
            int calls = 250;
            CyclicBarrier start = new CyclicBarrier(threads);
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(CompletableFuture.runAsync(() -> {
                    await(start);
                    for (int i = 0; i < calls; i++) {
                        jobs.increment("shared");
                    }
                }, runnable -> new Thread(runnable, "locked-test-worker").start()));
            }
            CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            assertThat(jobs.counter()).isEqualTo(threads * calls);
            assertThat(jobs.overlaps()).isZero();
            assertThat(locking.inspect("counter:shared")).isEmpty();
        });
    }

    @Test
    void theHandle_isReachableInsideTheMethod_withItsFencingToken() {
        withJobs(jobs -> {
            LockHandle handle = jobs.handle(17);
            assertThat(handle.keys()).containsExactly("order:17");
            assertThat(handle.fencingToken("order:17")).isPositive();
            assertThat(LockedContext.find()).isEmpty();
            assertThatThrownBy(LockedContext::current).isInstanceOf(IllegalStateException.class);
        });
    }

    @Test
    void anExpressionGivingACollection_locksEachElement() {
        withJobs(jobs -> assertThat(jobs.many(List.of("b", "a", "b"))).containsExactly("a", "b"));
    }

    @Test
    void expressionsSeeTheMethod_theParametersByIndex_andBeans() {
        // The proxy's class is a CGLIB subclass: its simple name is longer than "Jobs", so compute it here too.
        withJobs(jobs -> assertThat(jobs.rootIndexAndBean("x"))
                .containsExactly("rootIndexAndBean:x:" + jobs.getClass().getSimpleName().length()));
    }

    @Test
    void placeholders_chooseTheProviderAndTheTimeout() {
        runner.withPropertyValues("locking.providers.second.type=memory", "jobs.provider=lp_second",
                "jobs.timeout=1s").run(context -> withJobs(context,
                        jobs -> assertThat(jobs.providerOf("x")).isEqualTo("lp_second")));
        runner.run(context -> withJobs(context, jobs -> assertThat(jobs.providerOf("x")).isEqualTo("lp_memory")));
    }

    @Test
    void aVariableTheMethodDoesNotHave_isAClearErrorAtTheCall_andNothingIsLockedOrRun() {
        withJobs(jobs -> {
            EVENTS.clear();
            assertThatThrownBy(() -> jobs.typo(17)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Jobs.typo(long)")
                    .hasMessageContaining("\"'order:' + #ordId\"")
                    .hasMessageContaining("no variable #ordId")
                    .hasMessageContaining("orderId");
            assertThat(jobs.bodies()).isZero();
            assertThat(EVENTS).as("no operation reached the service").isEmpty();
        });
    }

    @Test
    void otherBadKeys_areClearErrorsAtTheCall() {
        withJobs(jobs -> {
            assertThatThrownBy(jobs::unquoted).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Jobs.unquoted()").hasMessageContaining("\"nightly\"")
                    .hasMessageContaining("quoted");
            assertThatThrownBy(() -> jobs.byName("  ")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Jobs.byName(String)").hasMessageContaining("blank key");
            assertThatThrownBy(() -> jobs.byName(null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Jobs.byName(String)").hasMessageContaining("#name is null");
            assertThatThrownBy(jobs::unparsable).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Jobs.unparsable()").hasMessageContaining("does not parse");
            assertThatThrownBy(jobs::badTimeout).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Jobs.badTimeout()").hasMessageContaining("timeout \"soon\"");
            assertThatThrownBy(jobs::primitiveReport).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Jobs.primitiveReport()").hasMessageContaining("SKIP");
            assertThat(jobs.bodies()).isZero();
        });
    }

    @Test
    void skipMode_doesNotRunTheMethodWhileTheKeysAreBusy_andRunsItOnceTheyAreFree() {
        runner.run(context -> {
            Jobs jobs = context.getBean(Jobs.class);
            LockingService locking = context.getBean(LockingService.class);
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch letGo = new CountDownLatch(1);
            CompletableFuture<Object> holder = CompletableFuture.supplyAsync(() -> {
                try {
                    return locking.execute("report:hourly", lock -> {
                        held.countDown();
                        return letGo.await(60, TimeUnit.SECONDS);
                    }, ExecuteOptions.builder().timeout(Duration.ofSeconds(30)).build());
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(held.await(30, TimeUnit.SECONDS)).isTrue();

            assertThat(jobs.report()).isNull();
            assertThat(jobs.optionalReport()).isEmpty();
            assertThat(jobs.bodies()).as("skipped calls ran nothing").isZero();
            assertThatThrownBy(jobs::waitingReport).as("the waiting mode throws")
                    .isInstanceOf(LockTimeoutException.class);
            assertThat(jobs.bodies()).isZero();

            letGo.countDown();
            assertThat(holder.get(30, TimeUnit.SECONDS)).isEqualTo(true);
            assertThat(jobs.report()).isEqualTo("done");
            assertThat(jobs.optionalReport()).isEqualTo(Optional.of("done"));
        });
    }

    @Test
    void theMethodsOwnCheckedException_reachesTheCallerUnchanged_andTheKeyIsReleased() {
        runner.run(context -> {
            Jobs jobs = context.getBean(Jobs.class);
            assertThatThrownBy(() -> jobs.write("/tmp/x")).isExactlyInstanceOf(IOException.class)
                    .hasMessage("disk full: /tmp/x");
            assertThat(context.getBean(LockingService.class).inspect("io:/tmp/x")).isEmpty();
        });
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
