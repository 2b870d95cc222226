package dev.locking.tck;

import dev.locking.api.LockInfo;
import dev.locking.api.ReleaseAllOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of {@code releaseAll}: of one owner, and of every lock.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class ReleaseAllChecks {

    private ReleaseAllChecks() {}

    abstract static class ReleaseAll extends KitGroup {

        ReleaseAll(KitFixture kit) {
            super(kit);
        }

        @Test
        void ofAnOwner_releasesEveryLockOfThatOwner_andNothingElse() {
            String a1 = key("a1");
            String a2 = key("a2");
            String a3 = key("a3");
            String b = key("b");
            String n = key("n");
            locking.acquire(List.of(a1, a2), owner("owner-a"));
            locking.acquire(a3, owner("owner-a", Duration.ofSeconds(60)));
            locking.acquire(b, owner("owner-b"));
            locking.acquire(n);
            Map<String, Optional<LockInfo>> others = snapshot(b, n);

            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-nobody").build());
            assertHeld(a1);
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-a").build());

            assertFree(a1, a2, a3);
            assertUnchanged(others);
            locking.acquire(a1, owner("owner-b"));
        }

        @Test
        void withoutOwner_releasesEveryLock() {
            String a = key("a");
            String b = key("b");
            String n = key("n");
            locking.acquire(a, owner("owner-a"));
            locking.acquire(b, owner("owner-b", Duration.ofSeconds(60)));
            locking.acquire(n);

            locking.releaseAll();

            assertFree(a, b, n);
            locking.acquire(List.of(a, b, n), owner("owner-c"));
        }

        @Test
        void spi_releaseAll_ofAnOwnerAndOfEveryone() {
            String a = key("a");
            String b = key("b");
            String n = key("n");
            provider().tryAcquire(List.of(a), "owner-a", null);
            provider().tryAcquire(List.of(b), "owner-b", null);
            provider().tryAcquire(List.of(n), null, null);

            provider().releaseAll("owner-a");
            assertFree(a);
            assertHeld(b);
            assertHeld(n);

            provider().releaseAll(null);
            assertFree(a, b, n);
        }
    }
}
