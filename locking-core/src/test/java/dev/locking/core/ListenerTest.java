package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockLostException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingEvent;
import dev.locking.api.LockingEvent.Operation;
import dev.locking.api.LockingEvent.Outcome;
import dev.locking.api.LockingListener;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.ForwardingLockingProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener hook: what each operation reports, with real threads on the real lp_memory. */
class ListenerTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final AtomicInteger IDS = new AtomicInteger();

    /** Records every event, with the kind of call. */
    static final class Recorder implements LockingListener {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<LockingEvent> operations = new CopyOnWriteArrayList<>();
        final List<LockingEvent> started = new CopyOnWriteArrayList<>();

        @Override
        public void onJobStarted(LockingEvent event) {
            started.add(event);
            calls.add("started " + event.operation());
        }

        @Override
        public void onOperation(LockingEvent event) {
            operations.add(event);
            calls.add(event.operation() + " " + event.outcome());
        }

        LockingEvent last() {
            return operations.get(operations.size() - 1);
        }
    }

    /** Found through ServiceLoader in {@link #aListenerListedInMetaInfServices_isFound}. */
    public static final class Discovered implements LockingListener {
        static final AtomicInteger OPERATIONS = new AtomicInteger();

        @Override
        public void onOperation(LockingEvent event) {
            OPERATIONS.incrementAndGet();
        }
    }

    private final String id = "lp_listened" + IDS.incrementAndGet();
    private final LockingProvider memory = MemoryProviderFactory.newProvider(id);
    private final Recorder recorder = new Recorder();
    private @Nullable LockingService locking;

    private LockingService service(LockingProvider provider, LockingListener... listeners) {
        Locking.Builder builder = Locking.builder().provider(provider).defaultProvider(provider.id());
        for (LockingListener l : listeners) {
            builder.listener(l);
        }
        LockingService service = builder.build();
        locking = service;
        return service;
    }

    @AfterEach
    void close() {
        if (locking != null) {
            locking.close();
        }
    }

    @Test
    void anExecute_reportsItsJobStart_thenItsOutcome_withTheTimeHeld() {
        LockingService service = service(memory, recorder);
        service.execute("k", lock -> {
            assertThat(recorder.calls).containsExactly("started EXECUTE");
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            await().atMost(PATIENCE).until(() -> System.nanoTime() - until >= 0);
            return null;
        });

        assertThat(recorder.calls).containsExactly("started EXECUTE", "EXECUTE TAKEN");
        LockingEvent end = recorder.last();
        assertThat(end.providerId()).isEqualTo(id);
        assertThat(end.keys()).containsExactly("k");
        assertThat(end.held()).isGreaterThanOrEqualTo(Duration.ofMillis(50));
        assertThat(end.failure()).isNull();
        assertThat(recorder.started.get(0).held()).isZero();
    }

    @Test
    void aNestedExecute_isReportedAsAJobStartAndAnOutcome_soStartsAndEndsPairUp() {
        LockingService service = service(memory, recorder);
        service.execute("k", outer -> service.execute("k", inner -> "inner"));

        assertThat(recorder.calls).containsExactly("started EXECUTE", "started EXECUTE", "EXECUTE TAKEN",
                "EXECUTE TAKEN");
        assertThat(recorder.started.get(1).waited()).isZero();
    }

    @Test
    void anExecuteThatWaited_reportsTheTimeWaited_afterAReleaseInAnotherThread() throws Exception {
        TestProviders.CountingProvider counted = new TestProviders.CountingProvider(memory);
        LockingService service = service(counted, recorder);
        service.acquire("k");
        CompletableFuture<String> waiter = CompletableFuture.supplyAsync(
                () -> service.execute("k", lock -> "ran", ExecuteOptions.builder().timeout(PATIENCE).build()));
        await().atMost(PATIENCE).until(() -> counted.awaits.get() >= 1);
        long start = System.nanoTime();
        await().atMost(PATIENCE).until(() -> System.nanoTime() - start > 100_000_000L); // time passing while it waits
        assertThat(waiter).isNotDone();
        assertThat(service.release("k")).isTrue();
        assertThat(waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("ran");

        LockingEvent started = recorder.started.get(0);
        assertThat(started.waited()).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        await().atMost(PATIENCE).until(() -> recorder.operations.size() == 3);
        assertThat(recorder.operations).extracting(e -> e.operation() + " " + e.outcome())
                .containsExactly("ACQUIRE TAKEN", "RELEASE RELEASED", "EXECUTE TAKEN");
        assertThat(recorder.last().waited()).isEqualTo(started.waited());
    }

    @Test
    void timeouts_conflicts_andReleases_areReportedWithTheirOutcome() {
        LockingService service = service(memory, recorder);
        service.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        assertThatThrownBy(() -> service.acquire("k")).isInstanceOf(LockAcquisitionException.class);
        assertThatThrownBy(() -> service.acquire("k", AcquireOptions.builder().wait(Duration.ofMillis(200)).build()))
                .isInstanceOf(LockTimeoutException.class);
        assertThatThrownBy(() -> service.execute("k", lock -> "ran",
                ExecuteOptions.builder().timeout(Duration.ofMillis(200)).build()))
                .isInstanceOf(LockTimeoutException.class);
        assertThat(service.release("k")).isFalse();
        service.releaseAll(ReleaseAllOptions.builder().ownerId("holder").build());

        assertThat(recorder.operations).extracting(e -> e.operation() + " " + e.outcome()).containsExactly(
                "ACQUIRE TAKEN", "ACQUIRE CONFLICT", "ACQUIRE TIMEOUT", "EXECUTE TIMEOUT",
                "RELEASE NOT_RELEASED", "RELEASE_ALL RELEASED");
        assertThat(recorder.operations.get(2).waited()).isGreaterThanOrEqualTo(Duration.ofMillis(190));
        assertThat(recorder.operations.get(3).failure()).isInstanceOf(LockTimeoutException.class);
        assertThat(recorder.started).as("no job started").isEmpty();
    }

    @Test
    void aLostLease_isReportedAsLost() {
        LockingService service = service(memory, recorder);
        assertThatThrownBy(() -> service.execute("k", lock -> {
            memory.releaseAll(null); // behind the service's back: the next renewal finds the lock gone
            await().atMost(PATIENCE).until(lock::isLost);
            return "must not be returned";
        }, ExecuteOptions.builder().expire(Duration.ofMillis(600)).build())).isInstanceOf(LockLostException.class);

        assertThat(recorder.calls).containsExactly("started EXECUTE", "EXECUTE LOST");
        assertThat(recorder.last().failure()).isInstanceOf(LockLostException.class);
    }

    @Test
    void aBackendFailure_isReportedAsError() {
        LockingProvider failing = new ForwardingLockingProvider(memory) {
            @Override
            public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
                throw new ProviderUnavailableException("backend down (test)");
            }
        };
        LockingService service = service(failing, recorder);
        assertThatThrownBy(() -> service.acquire("k")).isInstanceOf(ProviderUnavailableException.class);
        assertThat(recorder.last().outcome()).isEqualTo(Outcome.ERROR);
        assertThat(recorder.last().failure()).isInstanceOf(ProviderUnavailableException.class);
    }

    @Test
    void badArguments_areNotReported() {
        LockingService service = service(memory, recorder);
        assertThatThrownBy(() -> service.acquire("")).isInstanceOf(IllegalArgumentException.class);
        assertThat(recorder.operations).isEmpty();
    }

    @Test
    void aThrowingListener_breaksNoOperation_andIsLoggedOnce() {
        Recorder after = new Recorder();
        LockingListener throwing = new LockingListener() {
            @Override
            public void onJobStarted(LockingEvent event) {
                throw new IllegalStateException("listener bug (test)");
            }

            @Override
            public void onOperation(LockingEvent event) {
                throw new IllegalStateException("listener bug (test)");
            }
        };
        LockingService service = service(memory, throwing, after);
        LogCapture.Captured<String> captured = LogCapture.during(() -> {
            String result = service.execute("k", lock -> "ran");
            service.acquire("k");
            assertThat(service.release("k")).isTrue();
            return result;
        });

        assertThat(captured.value()).isEqualTo("ran");
        assertThat(service.inspect("k")).isEmpty();
        assertThat(after.calls).as("the next listener still hears everything")
                .containsExactly("started EXECUTE", "EXECUTE TAKEN", "ACQUIRE TAKEN", "RELEASE RELEASED");
        assertThat(captured.lines().stream().filter(l -> l.contains("WARN") && l.contains("listener")).count())
                .isEqualTo(1);
    }

    /**
     * Listeners run with no lock of the core or the provider held: a listener that makes another thread lock the
     * same key and waits for it would deadlock otherwise.
     */
    @Test
    void listenersRunOffTheLocks_anotherThreadCanLockTheSameKeyMeanwhile() {
        AtomicLong otherRan = new AtomicLong();
        LockingService[] self = new LockingService[1];
        LockingListener blocking = new LockingListener() {
            @Override
            public void onOperation(LockingEvent event) {
                if (event.operation() == Operation.EXECUTE && otherRan.get() == 0 && !Thread.currentThread().isDaemon()) {
                    CompletableFuture<Long> other = CompletableFuture.supplyAsync(() -> self[0].execute("k",
                            lock -> otherRan.incrementAndGet(), ExecuteOptions.builder().timeout(PATIENCE).build()));
                    assertThat(other.orTimeout(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).join()).isEqualTo(1L);
                }
            }
        };
        self[0] = service(memory, blocking);
        self[0].execute("k", lock -> "first");
        assertThat(otherRan).hasValue(1);
    }

    @Test
    void aListenerListedInMetaInfServices_isFound(@TempDir Path dir) throws IOException {
        ClassLoader loader = TestProviders.loaderWith(dir);
        Path services = dir.resolve("META-INF/services");
        Files.writeString(services.resolve(LockingListener.class.getName()), Discovered.class.getName() + "\n");
        LockingService service = Locking.builder().classLoader(loader).provider(memory).defaultProvider(id).build();
        locking = service;
        int before = Discovered.OPERATIONS.get();
        service.acquire("k");
        assertThat(service.release("k")).isTrue();
        assertThat(Discovered.OPERATIONS.get() - before).isEqualTo(2);
    }
}
