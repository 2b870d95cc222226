package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockInfo;
import dev.locking.api.ReleaseOptions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of {@code release}: anonymous and owned locks, and what its result means.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class ReleaseChecks {

    private ReleaseChecks() {}

    abstract static class Release extends KitGroup {

        Release(KitFixture kit) {
            super(kit);
        }

        @Test
        void anAnonymousLock_isReleasedByAnyone() {
            String a = key("a");
            String b = key("b");
            locking.acquire(a);
            locking.acquire(b);

            assertThat(locking.release(a)).isTrue();
            assertThat(locking.release(b, by("someone"))).isTrue();
            assertFree(a, b);
        }

        @Test
        void anOwnedLock_isReleasedByItsOwnerOnly() {
            String a = key("a");
            locking.acquire(a, owner("owner-1"));
            Map<String, Optional<LockInfo>> before = snapshot(a);

            assertThat(locking.release(a, by("owner-2"))).isFalse();
            assertUnchanged(before);
            assertThat(locking.release(a, by("owner-1"))).isTrue();
            assertFree(a);
        }

        @Test
        void anOwnedLock_isLeftAloneWhenNoOwnerIsGiven() {
            String a = key("a");
            locking.acquire(a, owner("owner-1"));
            Map<String, Optional<LockInfo>> before = snapshot(a);

            assertThat(locking.release(a)).isFalse();
            assertThat(locking.release(List.of(a), ReleaseOptions.DEFAULTS)).isFalse();
            assertUnchanged(before);
        }

        @Test
        void aKeyNotHeld_givesFalse() {
            String a = key("a");
            assertThat(locking.release(a)).isFalse();
            assertThat(locking.release(a, by("owner-1"))).isFalse();
            assertFree(a);
        }

        @Test
        void severalKeys_trueOnlyIfEveryKeyWasReleased() {
            String mine = key("mine");
            String free = key("free");
            locking.acquire(mine, owner("owner-1"));
            assertThat(locking.release(List.of(mine, free), by("owner-1"))).as("one key was not held").isFalse();
            assertFree(mine);

            String mine2 = key("mine2");
            String theirs = key("theirs");
            locking.acquire(mine2, owner("owner-1"));
            locking.acquire(theirs, owner("owner-2"));
            Map<String, Optional<LockInfo>> theirsBefore = snapshot(theirs);
            assertThat(locking.release(List.of(theirs, mine2), by("owner-1"))).as("one key is another's").isFalse();
            assertFree(mine2);
            assertUnchanged(theirsBefore);

            String mine3 = key("mine3");
            String anonymous = key("anonymous");
            locking.acquire(mine3, owner("owner-1"));
            locking.acquire(anonymous);
            assertThat(locking.release(List.of(mine3, anonymous), by("owner-1"))).isTrue();
            assertFree(mine3, anonymous);
        }

        @Test
        void spi_release_followsTheSameRules() {
            String owned = key("owned");
            String anonymous = key("anonymous");
            provider().tryAcquire(List.of(owned), "owner-1", null);
            provider().tryAcquire(List.of(anonymous), null, null);

            assertThat(provider().release(List.of(owned), null)).as("owned key, no owner").isFalse();
            assertThat(provider().release(List.of(owned), "owner-2")).as("owned key, other owner").isFalse();
            assertHeld(owned);
            assertThat(provider().release(List.of(anonymous, owned), "owner-1")).isTrue();
            assertFree(anonymous, owned);
            assertThat(provider().release(List.of(owned), "owner-1")).as("key not held").isFalse();
        }
    }
}
