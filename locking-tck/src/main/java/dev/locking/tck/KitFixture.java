package dev.locking.tck;

import static dev.locking.tck.LockingProviderConformance.PROVIDER_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.core.Locking;
import dev.locking.spi.LockingProvider;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The fixture of one conformance test class: the provider under test (created once, on first use, from the
 * subclass's hooks), an optional second client of the same backend, and what each test gets fresh: a key
 * prefix, a {@link LockingService} around a {@link CountingProvider} view of the provider, and a thread pool.
 * {@link LockingProviderConformance} owns one and drives it from its {@code @BeforeEach}, {@code @AfterEach}
 * and {@code @AfterAll} methods; every group ({@link KitGroup}) reads it.
 *
 * <p>Concurrency: used by the test's own thread only (the kit runs its tests one at a time); the tasks a test
 * starts on {@link #pool()} do not touch it.
 */
final class KitFixture {

    private final LockingProviderConformance hooks;

    private @Nullable LockingProvider backend;
    private @Nullable LockingProvider secondBackend;
    private boolean secondClientAsked;

    private String prefix = "";
    @SuppressWarnings("NullAway.Init") // set by setUp(), which runs before every test
    private CountingProvider counted;
    @SuppressWarnings("NullAway.Init") // set by setUp(), which runs before every test
    private LockingService locking;
    private @Nullable CountingProvider secondCounted;
    private @Nullable LockingService secondLocking;
    @SuppressWarnings("NullAway.Init") // set by setUp(), which runs before every test
    private ExecutorService pool;
    /** Set once a ForeignData test planted data that no call can remove; read by the clean-up. */
    private boolean foreignDataPlanted;

    KitFixture(LockingProviderConformance hooks) {
        this.hooks = hooks;
    }

    /** The test class, whose hooks say how to build providers and how long to wait. */
    LockingProviderConformance hooks() {
        return hooks;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Lifecycle
    // ---------------------------------------------------------------------------------------------------------

    /** Builds the service of one test around the (shared) provider under test. */
    void setUp() {
        LockingProvider p = provider();
        prefix = "tck-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        counted = new CountingProvider(p);
        locking = serviceAround(counted);
        pool = Executors.newCachedThreadPool(daemonThreads());
    }

    /** Stops the test's threads, closes its services and releases what it left behind. */
    void tearDown() throws InterruptedException {
        boolean stopped = true;
        if (pool != null) { // null only when the first set-up failed
            pool.shutdownNow();
            stopped = pool.awaitTermination(hooks.patience().toMillis(), TimeUnit.MILLISECONDS);
        }
        if (locking != null) {
            locking.close();
        }
        LockingService second = secondLocking;
        secondLocking = null;
        secondCounted = null;
        if (second != null) {
            second.close();
        }
        LockingProvider p = backend;
        if (p != null) {
            try {
                p.releaseAll(null);
            } catch (LockingException e) {
                // The data a ForeignData test planted stays for good, and releaseAll() may report it every time.
                if (!foreignDataPlanted || e instanceof ProviderUnavailableException) {
                    throw e;
                }
            }
        }
        assertThat(stopped).as("every thread the test started has ended").isTrue();
    }

    /** Closes the providers the kit created. */
    void closeProviders() {
        LockingProvider first = backend;
        LockingProvider second = secondBackend;
        backend = null;
        secondBackend = null;
        secondClientAsked = false;
        try {
            if (second != null) {
                second.close();
            }
        } finally {
            if (first != null) {
                first.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // What the groups use
    // ---------------------------------------------------------------------------------------------------------

    /** The provider under test itself (not the counting wrapper the service uses), created on first use. */
    LockingProvider provider() {
        LockingProvider p = backend;
        if (p == null) {
            p = hooks.newProvider(PROVIDER_ID);
            assertThat(p.id()).as("id() of the provider newProvider(\"%s\") returned", PROVIDER_ID)
                    .isEqualTo(PROVIDER_ID);
            backend = p;
        }
        return p;
    }

    /** This test's service; its default provider is the provider under test. */
    LockingService locking() {
        return locking;
    }

    /** The counting view of the provider under test that this test's service uses. */
    CountingProvider counted() {
        return counted;
    }

    /** This test's thread pool; the clean-up stops it. */
    ExecutorService pool() {
        return pool;
    }

    /** This test's key prefix, which no other test uses. */
    String prefix() {
        return prefix;
    }

    /** A key that no other test uses: the test's prefix followed by {@code name}. */
    String key(String name) {
        return prefix + name;
    }

    /** A service whose default provider is {@code provider}, which reports the kit's id. */
    LockingService serviceAround(LockingProvider provider) {
        return Locking.builder().provider(provider).defaultProvider(PROVIDER_ID).build();
    }

    /** The service of the second client; skips the test when the provider has none. */
    LockingService second() {
        LockingService s = secondLocking;
        if (s != null) {
            return s;
        }
        if (!secondClientAsked) {
            secondClientAsked = true;
            secondBackend = hooks.newSecondClient(PROVIDER_ID);
        }
        LockingProvider p = secondBackend;
        if (p == null) {
            return abort("newSecondClient returned null: the provider has no second client of one backend");
        }
        CountingProvider c = new CountingProvider(p);
        s = serviceAround(c);
        secondCounted = c;
        secondLocking = s;
        return s;
    }

    /** The counting view of the second client that {@link #second()} uses. */
    CountingProvider secondCounted() {
        CountingProvider c = secondCounted;
        if (c == null) {
            second();
            c = secondCounted;
        }
        assertThat(c).isNotNull();
        return c;
    }

    /** The second client itself, once {@link #second()} asked for it; null if there is none. */
    @Nullable LockingProvider secondBackend() {
        return secondBackend;
    }

    /** Notes that a test planted data that no call can remove, so that the clean-up accepts its report. */
    void markForeignDataPlanted() {
        foreignDataPlanted = true;
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "tck-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
