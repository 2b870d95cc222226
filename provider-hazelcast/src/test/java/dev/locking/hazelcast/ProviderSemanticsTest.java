package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.AcquireResult.Conflict;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The provider SPI's semantics (DESIGN.md's table, as far as a provider is concerned), checked against
 * real Hazelcast; one subclass per topology. The conformance kit in {@code locking-tck} checks the same
 * through the core; these tests stay because they look at Hazelcast-specific effects too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ProviderSemanticsTest {

    /** The provider under test; shared by the class. */
    abstract LockingProvider provider();

    /** A second, independent client of the same backend and map. */
    abstract LockingProvider secondClient();

    static String key(String name) {
        return name + "-" + UUID.randomUUID();
    }

    static Acquired acquired(AcquireResult result) {
        assertThat(result).isInstanceOf(Acquired.class);
        return (Acquired) result;
    }

    @Nested
    class Acquire {
        @Test
        void acquire_onFreeKeys_takesAllWithATokenEach() {
            String a = key("a");
            String b = key("b");
            List<String> keys = a.compareTo(b) < 0 ? List.of(a, b) : List.of(b, a);
            Acquired result = acquired(provider().tryAcquire(keys, "owner-1", Duration.ofSeconds(30)));
            assertThat(result.fencingTokens()).containsOnlyKeys(a, b).allSatisfy((k, t) -> assertThat(t).isPositive());
            assertThat(result.expiresAt()).isAfter(Instant.now().plusSeconds(20)).isBefore(Instant.now().plusSeconds(40));
            LockInfo info = provider().inspect(a).orElseThrow();
            assertThat(info.ownerId()).isEqualTo("owner-1");
            assertThat(info.fencingToken()).isEqualTo(result.fencingTokens().get(a));
        }

        @Test
        void acquire_bySameOwnerWithLease_resetsExpiryAndKeepsToken() {
            String k = key("reenter");
            Acquired first = acquired(provider().tryAcquire(List.of(k), "owner", Duration.ofSeconds(5)));
            Acquired again = acquired(provider().tryAcquire(List.of(k), "owner", Duration.ofSeconds(60)));
            assertThat(again.fencingTokens()).isEqualTo(first.fencingTokens());
            assertThat(again.expiresAt()).isAfter(Instant.now().plusSeconds(50));
            assertThat(provider().inspect(k).orElseThrow().expiresAt()).isEqualTo(again.expiresAt());
        }

        @Test
        void acquire_bySameOwnerWithoutLease_keepsOldExpiry() {
            String k = key("reenter-nolease");
            Acquired first = acquired(provider().tryAcquire(List.of(k), "owner", Duration.ofSeconds(30)));
            Acquired again = acquired(provider().tryAcquire(List.of(k), "owner", null));
            assertThat(again.expiresAt()).isEqualTo(first.expiresAt());
            assertThat(again.fencingTokens()).isEqualTo(first.fencingTokens());
        }

        @Test
        void acquire_onKeyHeldByAnotherOwner_conflictsOnFirstHeldKeyAndChangesNothing() {
            String a = "a-" + UUID.randomUUID();
            String b = "b-" + UUID.randomUUID();
            String c = "c-" + UUID.randomUUID();
            provider().tryAcquire(List.of(b), "other", null);
            Acquired mine = acquired(provider().tryAcquire(List.of(a), "me", Duration.ofSeconds(10)));
            LockInfo before = provider().inspect(a).orElseThrow();

            AcquireResult result = provider().tryAcquire(List.of(a, b, c), "me", Duration.ofSeconds(60));

            assertThat(result).isEqualTo(new Conflict(b));
            assertThat(provider().inspect(a)).contains(before); // re-entry rolled back: old expiry
            assertThat(provider().inspect(c)).isEmpty();
            assertThat(provider().inspect(b).orElseThrow().ownerId()).isEqualTo("other");
            assertThat(mine.fencingTokens().get(a)).isEqualTo(before.fencingToken());
        }

        @Test
        void acquire_onAnonymousLock_conflictsForEveryone() {
            String k = key("anon");
            acquired(provider().tryAcquire(List.of(k), null, null));
            assertThat(provider().tryAcquire(List.of(k), null, null)).isEqualTo(new Conflict(k));
            assertThat(provider().tryAcquire(List.of(k), "someone", null)).isEqualTo(new Conflict(k));
        }

        @Test
        void acquire_afterLeaseLapsed_takesKeyWithHigherToken() {
            String k = key("lapse");
            Acquired first = acquired(provider().tryAcquire(List.of(k), "first", Duration.ofMillis(200)));
            await().atMost(Duration.ofSeconds(10)).until(() -> provider().inspect(k).isEmpty());
            Acquired second = acquired(provider().tryAcquire(List.of(k), "second", null));
            assertThat(second.fencingTokens().get(k)).isGreaterThan(first.fencingTokens().get(k));
            assertThat(second.expiresAt()).isNull();
        }

        @Test
        void acquire_withoutLease_neverExpires() {
            String k = key("forever");
            Acquired result = acquired(provider().tryAcquire(List.of(k), "owner", null));
            assertThat(result.expiresAt()).isNull();
            assertThat(provider().inspect(k).orElseThrow().expiresAt()).isNull();
        }

        @Test
        void tokens_increaseAcrossReleaseAndExpiry() {
            String k = key("tokens");
            long last = 0;
            for (int i = 0; i < 3; i++) {
                long token = acquired(provider().tryAcquire(List.of(k), "o" + i, null)).fencingTokens().get(k);
                assertThat(token).isGreaterThan(last);
                last = token;
                assertThat(provider().release(List.of(k), "o" + i)).isTrue();
            }
            long leased = acquired(provider().tryAcquire(List.of(k), "x", Duration.ofMillis(100))).fencingTokens().get(k);
            assertThat(leased).isGreaterThan(last);
            await().atMost(Duration.ofSeconds(10)).until(() -> provider().inspect(k).isEmpty());
            long after = acquired(provider().tryAcquire(List.of(k), "y", null)).fencingTokens().get(k);
            assertThat(after).isGreaterThan(leased);
        }
    }

    @Nested
    class Extend {
        @Test
        void extend_byOwner_resetsLease() {
            String k = key("extend");
            provider().tryAcquire(List.of(k), "owner", Duration.ofSeconds(2));
            assertThat(provider().extend(List.of(k), "owner", Duration.ofSeconds(60))).isTrue();
            assertThat(provider().inspect(k).orElseThrow().expiresAt()).isAfter(Instant.now().plusSeconds(50));
        }

        @Test
        void extend_byOtherOwnerOrOnFreeKey_isFalse() {
            String k = key("extend-other");
            String free = key("extend-free");
            provider().tryAcquire(List.of(k), "owner", Duration.ofSeconds(30));
            assertThat(provider().extend(List.of(k), "intruder", Duration.ofSeconds(60))).isFalse();
            assertThat(provider().extend(List.of(free), "owner", Duration.ofSeconds(60))).isFalse();
            assertThat(provider().inspect(free)).isEmpty();
        }
    }

    @Nested
    class Release {
        @Test
        void release_table() {
            String owned = key("owned");
            String anon = key("anon");
            String free = key("free");
            provider().tryAcquire(List.of(owned), "owner", null);
            provider().tryAcquire(List.of(anon), null, null);

            assertThat(provider().release(List.of(owned), "other")).isFalse();
            assertThat(provider().release(List.of(owned), null)).isFalse();
            assertThat(provider().inspect(owned)).isPresent();
            assertThat(provider().release(List.of(free), "owner")).isFalse();
            assertThat(provider().release(List.of(anon), "anyone")).isTrue();
            assertThat(provider().inspect(anon)).isEmpty();
            assertThat(provider().release(List.of(owned), "owner")).isTrue();
            assertThat(provider().inspect(owned)).isEmpty();
        }

        @Test
        void release_ofSeveralKeys_isTrueOnlyIfAllWereReleased() {
            String a = key("a");
            String b = key("b");
            List<String> keys = a.compareTo(b) < 0 ? List.of(a, b) : List.of(b, a);
            provider().tryAcquire(List.of(a), "owner", null);
            assertThat(provider().release(keys, "owner")).isFalse();
            assertThat(provider().inspect(a)).isEmpty();
        }

        @Test
        void releaseAll_ofOwner_releasesOnlyItsLocks() {
            String owner = "bulk-" + UUID.randomUUID();
            List<String> mine = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String k = key("mine" + i);
                mine.add(k);
                provider().tryAcquire(List.of(k), owner, i % 2 == 0 ? null : Duration.ofSeconds(30));
            }
            String theirs = key("theirs");
            provider().tryAcquire(List.of(theirs), "someone-else", null);

            provider().releaseAll(owner);

            assertThat(mine).allSatisfy(k -> assertThat(provider().inspect(k)).isEmpty());
            assertThat(provider().inspect(theirs)).isPresent();
        }
    }

    @Nested
    class Waiting {
        @Test
        void awaitRelease_returnsWhenTheHolderReleases() throws Exception {
            String k = key("wait");
            provider().tryAcquire(List.of(k), "holder", null);
            CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> {
                try {
                    while (!(provider().tryAcquire(List.of(k), "waiter", null) instanceof Acquired)) {
                        provider().awaitRelease(List.of(k), Duration.ofSeconds(30));
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(waiter).isNotDone();
            secondClient().release(List.of(k), "holder");
            waiter.get(20, TimeUnit.SECONDS);
            assertThat(provider().inspect(k).orElseThrow().ownerId()).isEqualTo("waiter");
        }

        @Test
        void awaitRelease_returnsAtOnceWhenAKeyIsFree() throws Exception {
            long start = System.nanoTime();
            provider().awaitRelease(List.of(key("free")), Duration.ofSeconds(30));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }

        @Test
        void awaitRelease_onInterrupt_throwsInterruptedException() {
            String k = key("interrupt");
            provider().tryAcquire(List.of(k), "holder", null);
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> provider().awaitRelease(List.of(k), Duration.ofSeconds(30)))
                    .isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).isFalse();
        }

        @Test
        void callsOnAnInterruptedThread_work_andKeepTheFlag() {
            String k = key("interrupted-call");
            Thread.currentThread().interrupt();
            try {
                assertThat(provider().tryAcquire(List.of(k), "o", null)).isInstanceOf(Acquired.class);
                assertThat(provider().inspect(k)).isPresent();
                assertThat(provider().release(List.of(k), "o")).isTrue();
                provider().releaseAll("o");
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
            } finally {
                Thread.interrupted();
            }
        }

        @Test
        void mutualExclusion_threadsOfTwoClients_neverOverlap() throws Exception {
            String k = key("counter");
            int threads = 4;
            int rounds = 25;
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            long[] counter = {0};
            AtomicLong lastToken = new AtomicLong();
            AtomicInteger tokenRegressions = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    LockingProvider p = t % 2 == 0 ? provider() : secondClient();
                    String owner = "thread-" + t;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < rounds; i++) {
                            AcquireResult r = p.tryAcquire(List.of(k), owner, Duration.ofSeconds(30));
                            while (!(r instanceof Acquired)) {
                                p.awaitRelease(List.of(k), Duration.ofSeconds(5));
                                r = p.tryAcquire(List.of(k), owner, Duration.ofSeconds(30));
                            }
                            long token = ((Acquired) r).fencingTokens().get(k);
                            if (inside.incrementAndGet() > 1) {
                                overlaps.incrementAndGet();
                            }
                            if (token <= lastToken.get()) {
                                tokenRegressions.incrementAndGet();
                            }
                            lastToken.set(token);
                            counter[0]++;
                            inside.decrementAndGet();
                            p.release(List.of(k), owner);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(overlaps.get()).isZero();
            assertThat(tokenRegressions.get()).isZero();
            assertThat(counter[0]).isEqualTo((long) threads * rounds);
        }
    }

    @Nested
    class TwoClients {
        @Test
        void aLockTakenByOneClient_conflictsInTheOther() {
            String k = key("two");
            Acquired taken = acquired(provider().tryAcquire(List.of(k), "one", null));
            assertThat(secondClient().tryAcquire(List.of(k), "two", null)).isEqualTo(new Conflict(k));
            Optional<LockInfo> seen = secondClient().inspect(k);
            assertThat(seen.orElseThrow().fencingToken()).isEqualTo(taken.fencingTokens().get(k));
            assertThat(seen.get().ownerId()).isEqualTo("one");
            assertThat(secondClient().release(List.of(k), "one")).isTrue();
            assertThat(provider().inspect(k)).isEmpty();
        }

        @Test
        void releaseAllOfOwner_fromTheOtherClient() {
            String owner = "o-" + UUID.randomUUID();
            String k = key("rall");
            provider().tryAcquire(List.of(k), owner, null);
            secondClient().releaseAll(owner);
            assertThat(provider().inspect(k)).isEmpty();
        }
    }
}
