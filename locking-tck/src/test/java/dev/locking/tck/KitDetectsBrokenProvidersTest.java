package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockInfo;
import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.ForwardingLockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Checks the kit itself: each case breaks one rule on top of {@code lp_memory} and runs the kit's test for
 * that rule, which must fail. The same tests pass against the unbroken provider.
 */
class KitDetectsBrokenProvidersTest {

    static Stream<Arguments> brokenProviders() {
        return Stream.of(
                Arguments.of(NonAtomicAcquire.class, LockingProviderConformance.HeldBySomeoneElse.class,
                        "severalKeys_reportTheFirstConflictInSortedOrder_andChangeNoKey"),
                Arguments.of(AnonymousReentry.class, LockingProviderConformance.HeldBySomeoneElse.class,
                        "heldAnonymously_isReenteredByNobody"),
                Arguments.of(ReentryResetsExpiry.class, LockingProviderConformance.SameOwnerReentry.class,
                        "withoutExpire_keepsTheOldExpiry_andTheTokens"),
                Arguments.of(OwnerBlindRelease.class, LockingProviderConformance.Release.class,
                        "anOwnedLock_isLeftAloneWhenNoOwnerIsGiven"),
                Arguments.of(GreedyReleaseAll.class, LockingProviderConformance.ReleaseAll.class,
                        "ofAnOwner_releasesEveryLockOfThatOwner_andNothingElse"),
                Arguments.of(ConstantTokens.class, LockingProviderConformance.FencingTokens.class,
                        "spi_increaseAcrossReleases"),
                // The core retries every 500 ms whatever the provider does, so a deaf awaitRelease shows only
                // through the SPI.
                Arguments.of(DeafAwaitRelease.class, LockingProviderConformance.AwaitRelease.class,
                        "returnsSoonAfterARelease"),
                Arguments.of(ExtendAlwaysSucceeds.class, LockingProviderConformance.ExecuteLease.class,
                        "aLostLease_interruptsTheJob_andExecuteThrowsLockLostException"),
                Arguments.of(InterruptSwallowingAwait.class, LockingProviderConformance.InterruptDuringAWait.class,
                        "spi_awaitRelease_answersAnInterruptWithInterruptedException"),
                Arguments.of(RacyTakeover.class, LockingProviderConformance.TakeoverRace.class,
                        "twoClientsTakingOverALapsedLock_neverBothWin"),
                Arguments.of(LossyOwners.class, LockingProviderConformance.HostileKeysAndOwners.class,
                        "spi_lookalikeOwners_cannotReenterExtendReleaseOrReleaseAllEachOthersLocks"),
                Arguments.of(LeaveKeepsADirectTake.class, LockingProviderConformance.HandOff.class,
                        "anOwnerThatTookTheKeyDirectly_andLeaves_releasesIt_toTheNext"),
                Arguments.of(GrantsTheFullLease.class, LockingProviderConformance.HandOff.class,
                        "aGrantedOwnerThatNeverRenews_losesTheKeyAfterItsStay_toTheNextLiveOwner"),
                Arguments.of(ForgetsEarlyGrants.class, LockingProviderConformance.HandOff.class,
                        "aGrantMadeBeforeAwaitGrantStarts_isNotLost"));
    }

    @ParameterizedTest(name = "{0} fails {2}")
    @MethodSource("brokenProviders")
    void theKitFailsABrokenProvider(Class<? extends LockingProviderConformance> broken, Class<?> group, String test) {
        TestExecutionSummary summary = run(List.of(DiscoverySelectors.selectNestedMethod(List.of(broken), group, test)));

        assertThat(summary.getTestsFoundCount()).as("tests found").isEqualTo(1);
        assertThat(summary.getTestsFailedCount()).as("tests failed").isEqualTo(1);
    }

    @Test
    void theSameTestsPassAgainstTheUnbrokenProvider() {
        List<org.junit.platform.engine.DiscoverySelector> selectors = new ArrayList<>();
        brokenProviders().forEach(a -> selectors.add(DiscoverySelectors.selectNestedMethod(
                List.of(Unbroken.class), (Class<?>) a.get()[1], (String) a.get()[2])));

        TestExecutionSummary summary = run(selectors);

        assertThat(summary.getTestsFoundCount()).isEqualTo(selectors.size());
        assertThat(summary.getFailures()).isEmpty();
        assertThat(summary.getTestsSucceededCount()).isEqualTo(selectors.size());
    }

    private static TestExecutionSummary run(List<? extends org.junit.platform.engine.DiscoverySelector> selectors) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request, listener);
        return listener.getSummary();
    }

    // ---------------------------------------------------------------------------------------------------------
    // The kit, run against lp_memory with one rule broken
    // ---------------------------------------------------------------------------------------------------------

    /** The kit against a provider built from lp_memory; waits that a broken provider never ends are shortened. */
    abstract static class Broken extends LockingProviderConformance {
        private @Nullable LockingProvider created;

        abstract LockingProvider breakRule(LockingProvider memory);

        @Override
        protected LockingProvider newProvider(String id) {
            LockingProvider p = breakRule(MemoryProviderFactory.newProvider(id));
            created = p;
            return p;
        }

        /**
         * A second client of the same in-process backend: the provider under test again, behind a view that
         * leaves closing it to the kit's first client.
         */
        @Override
        protected @Nullable LockingProvider newSecondClient(String id) {
            LockingProvider p = created;
            if (p == null) {
                return null;
            }
            return new ForwardingLockingProvider(p) {
                @Override
                public void close() {}
            };
        }

        @Override
        protected Duration patience() {
            return Duration.ofSeconds(3);
        }
    }

    static class Unbroken extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return memory;
        }
    }

    /** Takes keys one by one and keeps the ones taken before a conflict. */
    static class NonAtomicAcquire extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
                    Map<String, Long> tokens = new HashMap<>();
                    AcquireResult.Acquired last = null;
                    for (String key : keys) {
                        AcquireResult one = memory.tryAcquire(List.of(key), ownerId, lease);
                        if (one instanceof AcquireResult.Conflict) {
                            return one;
                        }
                        last = (AcquireResult.Acquired) one;
                        tokens.putAll(last.fencingTokens());
                    }
                    return new AcquireResult.Acquired(tokens, last == null ? null : last.expiresAt());
                }
            };
        }
    }

    /** Lets an anonymous caller re-enter an anonymous lock. */
    static class AnonymousReentry extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
                    AcquireResult result = memory.tryAcquire(keys, ownerId, lease);
                    if (result instanceof AcquireResult.Conflict && ownerId == null && keys.size() == 1) {
                        Optional<LockInfo> held = memory.inspect(keys.get(0));
                        if (held.isPresent() && held.get().ownerId() == null) {
                            return new AcquireResult.Acquired(Map.of(keys.get(0), held.get().fencingToken()),
                                    held.get().expiresAt());
                        }
                    }
                    return result;
                }
            };
        }
    }

    /** A re-entry without a lease gives the lock a fresh ten-minute lease instead of keeping the old one. */
    static class ReentryResetsExpiry extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
                    if (ownerId != null && lease == null) {
                        memory.extend(keys, ownerId, Duration.ofMinutes(10));
                    }
                    return memory.tryAcquire(keys, ownerId, lease);
                }
            };
        }
    }

    /** A release without an owner also releases owned keys. */
    static class OwnerBlindRelease extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public boolean release(List<String> keys, @Nullable String ownerId) {
                    boolean all = true;
                    for (String key : keys) {
                        Optional<LockInfo> held = memory.inspect(key);
                        String owner = ownerId != null ? ownerId : held.map(LockInfo::ownerId).orElse(null);
                        all &= memory.release(List.of(key), owner);
                    }
                    return all;
                }
            };
        }
    }

    /** releaseAll(owner) releases everyone's locks. */
    static class GreedyReleaseAll extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public void releaseAll(@Nullable String ownerId) {
                    memory.releaseAll(null);
                }
            };
        }
    }

    /** Every fencing token is 1. */
    static class ConstantTokens extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
                    AcquireResult result = memory.tryAcquire(keys, ownerId, lease);
                    if (result instanceof AcquireResult.Acquired acquired) {
                        Map<String, Long> ones = new HashMap<>();
                        keys.forEach(k -> ones.put(k, 1L));
                        return new AcquireResult.Acquired(ones, acquired.expiresAt());
                    }
                    return result;
                }

                @Override
                public Optional<LockInfo> inspect(String key) {
                    return memory.inspect(key).map(i -> new LockInfo(i.key(), i.ownerId(), i.expiresAt(), 1L));
                }
            };
        }
    }

    /** awaitRelease ignores releases and always waits its whole maxWait. */
    static class DeafAwaitRelease extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
                    TimeUnit.NANOSECONDS.sleep(maxWait.toNanos());
                }
            };
        }
    }

    /** extend reports success without checking that the owner still holds the keys. */
    static class ExtendAlwaysSucceeds extends Broken {
        /**
         * A lease long enough that only an extend answering false can end it: with the kit's 1 s, a loaded
         * machine once delayed the renewals' confirmations past the lease, the core's lost-lease deadline
         * caught the loss instead, and this broken provider passed.
         */
        @Override
        protected Duration shortLease() {
            return Duration.ofSeconds(5);
        }

        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public boolean extend(List<String> keys, String ownerId, Duration lease) {
                    memory.extend(keys, ownerId, lease);
                    return true;
                }
            };
        }
    }

    /** awaitRelease swallows an interrupt and returns as if a key had been released. */
    static class InterruptSwallowingAwait extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public void awaitRelease(List<String> keys, Duration maxWait) {
                    try {
                        memory.awaitRelease(keys, maxWait);
                    } catch (InterruptedException e) {
                        // the bug under test: the interrupt is lost
                    }
                }
            };
        }
    }

    /**
     * Takes over a key it read as free even when another client took it in the meantime: the write is not
     * conditional on what the read saw, so it replaces the other taker's fresh lock.
     */
    static class RacyTakeover extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
                    boolean lookedFree = keys.stream().allMatch(k -> memory.inspect(k).isEmpty());
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // between the read and the write
                    AcquireResult result = memory.tryAcquire(keys, ownerId, lease);
                    if (result instanceof AcquireResult.Conflict conflict && lookedFree) {
                        memory.inspect(conflict.key())
                                .ifPresent(h -> memory.release(List.of(conflict.key()), h.ownerId()));
                        return memory.tryAcquire(keys, ownerId, lease);
                    }
                    return result;
                }
            };
        }
    }

    /** Stores owner ids through a lossy encoding: every character outside printable ASCII becomes '?'. */
    static class LossyOwners extends Broken {
        static String mangle(String ownerId) {
            return ownerId.replaceAll("[^\\x20-\\x7e]", "?");
        }

        static @Nullable String mangleNullable(@Nullable String ownerId) {
            return ownerId == null ? null : mangle(ownerId);
        }

        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
                    return memory.tryAcquire(keys, mangleNullable(ownerId), lease);
                }

                @Override
                public boolean extend(List<String> keys, String ownerId, Duration lease) {
                    return memory.extend(keys, mangle(ownerId), lease);
                }

                @Override
                public boolean release(List<String> keys, @Nullable String ownerId) {
                    return memory.release(keys, mangleNullable(ownerId));
                }

                @Override
                public void releaseAll(@Nullable String ownerId) {
                    memory.releaseAll(mangleNullable(ownerId));
                }
            };
        }
    }

    /** leaveQueue releases a key handed to the owner, but not one it took directly with acquireOrQueue. */
    static class LeaveKeepsADirectTake extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            Set<String> tookDirectly = ConcurrentHashMap.newKeySet();
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
                    boolean holdsAlready = memory.inspect(key).map(i -> ownerId.equals(i.ownerId())).orElse(false);
                    AcquireResult result = memory.acquireOrQueue(key, ownerId, lease, stay);
                    if (result instanceof AcquireResult.Acquired && !holdsAlready) {
                        tookDirectly.add(key + "\0" + ownerId);
                    }
                    return result;
                }

                @Override
                public void leaveQueue(String key, String ownerId) {
                    if (!tookDirectly.contains(key + "\0" + ownerId)) {
                        memory.leaveQueue(key, ownerId);
                    }
                }
            };
        }
    }

    /** A grant gets the owner's whole lease, not min(lease, stay): a dead waiter blocks the key a whole lease. */
    static class GrantsTheFullLease extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
                    return memory.acquireOrQueue(key, ownerId, lease, lease.compareTo(stay) > 0 ? lease : stay);
                }
            };
        }
    }

    /** awaitGrant waits only for grants made after it started: one made just before is found by a later call. */
    static class ForgetsEarlyGrants extends Broken {
        @Override
        LockingProvider breakRule(LockingProvider memory) {
            return new ForwardingLockingProvider(memory) {
                @Override
                public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
                        throws InterruptedException {
                    if (memory.inspect(key).map(i -> ownerId.equals(i.ownerId())).orElse(false)) {
                        TimeUnit.NANOSECONDS.sleep(maxWait.toNanos()); // the message went by before it listened
                        return null;
                    }
                    return memory.awaitGrant(key, ownerId, maxWait);
                }
            };
        }
    }
}
