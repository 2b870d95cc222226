package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Keys and owner ids are stored exactly: NUL, separators, dot segments, colons, line breaks, characters
 * outside the BMP (surrogate pairs) and the longest allowed (1024 characters) come back unchanged from
 * {@code inspect}, and the very same owner (only it, not a look-alike) re-enters, renews and releases.
 * (Lone surrogates are refused by the core before a provider sees them.)
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperOddNamesTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    private static final List<String> ODD = List.of("nul\u0000inside", "\u0000", "a/b", "/", ".", "..", ":",
            "a:b", "line\nbreak", "\r\n", "\n", "emoji \uD83D\uDE00 pair", "\uD83D\uDE00", "=", "-", "%2F", "%",
            "tab\tand space ", "x".repeat(1024), "\uD83D\uDE00".repeat(512), "\u20ac".repeat(1024));

    private final String namespace = "test-odd-" + UUID.randomUUID().toString().substring(0, 8);
    private LockingProvider a;
    private LockingProvider b;

    @BeforeEach
    void start() {
        a = ZK.provider("lp_zookeeper", namespace);
        b = ZK.provider("lp_zookeeper", namespace);
    }

    @AfterEach
    void stop() {
        a.releaseAll(null);
        a.close();
        b.close();
    }

    /** A different string that a lossy encoding could confuse with {@code s}. */
    private static String lookAlike(String s) {
        return s.replace('\u0000', '?').replace("\uD83D\uDE00", "??").replace('\n', ' ') + "?";
    }

    @Test
    void oddOwners_roundTripThroughInspectReentryRenewalAndRelease() {
        for (String owner : ODD) {
            String k = "owner-key-" + UUID.randomUUID();
            AcquireResult.Acquired first = (AcquireResult.Acquired) a.tryAcquire(List.of(k), owner,
                    Duration.ofMinutes(1));
            assertThat(b.inspect(k)).as("owner %s", owner).get().extracting(LockInfo::ownerId).isEqualTo(owner);
            assertThat(b.tryAcquire(List.of(k), lookAlike(owner), null)).as("a look-alike of %s", owner)
                    .isEqualTo(new AcquireResult.Conflict(k));
            AcquireResult again = b.tryAcquire(List.of(k), owner, Duration.ofMinutes(2));
            assertThat(again).as("re-entry of %s", owner).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(((AcquireResult.Acquired) again).fencingTokens()).isEqualTo(first.fencingTokens());
            assertThat(b.extend(List.of(k), owner, Duration.ofMinutes(1))).as("renewal by %s", owner).isTrue();
            assertThat(b.release(List.of(k), lookAlike(owner))).isFalse();
            assertThat(b.release(List.of(k), owner)).as("release by %s", owner).isTrue();
            assertThat(a.inspect(k)).isEmpty();
        }
    }

    @Test
    void oddOwners_releaseAllOfTheOwner_releasesExactlyItsLocks() {
        for (String owner : ODD) {
            String k = "all-" + UUID.randomUUID();
            assertThat(a.tryAcquire(List.of(k), owner, null)).isInstanceOf(AcquireResult.Acquired.class);
            a.releaseAll(lookAlike(owner));
            assertThat(b.inspect(k)).as("after releaseAll of a look-alike of %s", owner).isPresent();
            b.releaseAll(owner);
            assertThat(b.inspect(k)).as("after releaseAll(%s)", owner).isEmpty();
        }
    }

    @Test
    void oddKeys_roundTripThroughInspectReentryAndRelease_eachItsOwnLock() {
        for (String key : ODD) {
            String owner = "owner " + key;
            AcquireResult.Acquired r = (AcquireResult.Acquired) a.tryAcquire(List.of(key), owner, null);
            assertThat(r.fencingTokens()).containsOnlyKeys(key);
            LockInfo info = b.inspect(key).orElseThrow();
            assertThat(info.key()).isEqualTo(key);
            assertThat(info.ownerId()).isEqualTo(owner);
            assertThat(b.tryAcquire(List.of(key), owner, null)).isInstanceOf(AcquireResult.Acquired.class);
        }
        for (String key : ODD) {
            assertThat(b.release(List.of(key), "owner " + key)).as("release of %s", key).isTrue();
            assertThat(a.inspect(key)).isEmpty();
        }
    }
}
