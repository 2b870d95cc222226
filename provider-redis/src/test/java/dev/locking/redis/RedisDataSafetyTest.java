package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What {@code lp_redis} keeps in Redis and how it treats data it did not write: tokens that never go back,
 * nothing left behind, prefixes that never meet, foreign data that fails a call without changing anything,
 * owner ids stored exactly.
 */
class RedisDataSafetyTest {
    @RegisterExtension
    static final RedisServer REDIS = RedisServer.shared();

    private final List<LockingProvider> providers = new ArrayList<>();
    private final List<String> prefixes = new ArrayList<>();
    private String prefix = "";
    private RedisLockingProvider redis;

    @BeforeEach
    void setUp() {
        prefix = "safety-" + UUID.randomUUID() + ":";
        redis = provider(prefix);
    }

    @AfterEach
    void tearDown() {
        providers.forEach(LockingProvider::close);
        prefixes.forEach(REDIS::deleteKeysStartingWith);
    }

    private RedisLockingProvider provider(String keyPrefix) {
        RedisLockingProvider p = (RedisLockingProvider) REDIS.provider("lp_redis", "keyPrefix", keyPrefix);
        providers.add(p);
        prefixes.add(keyPrefix);
        return p;
    }

    private static long token(AcquireResult result, String key) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        return ((AcquireResult.Acquired) result).fencingTokens().get(key);
    }

    /** Every key of the server that starts with the prefix, with its type. */
    private static Map<String, String> keysUnder(String keyPrefix) {
        Map<String, String> found = new TreeMap<>();
        try (RespClient admin = REDIS.admin()) {
            for (Object key : (List<?>) admin.call("KEYS", glob(keyPrefix) + "*")) {
                found.put(key.toString(), admin.string("TYPE", key.toString()));
            }
        }
        return found;
    }

    private static String glob(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ("*?[]\\".indexOf(c) >= 0) {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    @Nested
    class Tokens {
        @Test
        void aTokenIsNeverBelowTheServersClockInMicroseconds() {
            long before;
            try (RespClient admin = REDIS.admin()) {
                List<?> time = (List<?>) admin.call("TIME");
                before = Long.parseLong(time.get(0).toString()) * 1_000_000 + Long.parseLong(time.get(1).toString());
            }

            long token = token(redis.tryAcquire(List.of("k"), "me", null), "k");

            assertThat(token).isGreaterThanOrEqualTo(before).isLessThan(1L << 53);
        }

        @Test
        void aQuickReacquire_getsAHigherToken_evenWithinOneMicrosecond() {
            long last = 0;
            for (int i = 0; i < 200; i++) {
                long token = token(redis.tryAcquire(List.of("k", "l"), null, null), "k");
                assertThat(token).isGreaterThan(last);
                last = token;
                redis.release(List.of("k", "l"), null);
            }
        }

        @Test
        void tokensKeepRising_whenRedisRestartsWithoutPersistence() {
            try (RedisProcess server = RedisProcess.start()) {
                LockingProvider p = new RedisProviderFactory().create(TestConfig.of("lp_redis", "address",
                        server.address(), "timeout", "1s", "connectTimeout", "1s"));
                providers.add(p);
                long t1 = token(p.tryAcquire(List.of("k"), "me", null), "k");
                p.release(List.of("k"), "me");
                long t2 = token(p.tryAcquire(List.of("k"), "me", null), "k");

                server.stop();
                server.begin(); // no persistence: the server comes back empty

                long t3 = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> token(p.tryAcquire(List.of("k"), "you", null), "k"), t -> t > 0);
                assertThat(List.of(t1, t2, t3)).isSortedAccordingTo(Long::compare).doesNotHaveDuplicates();
            }
        }
    }

    @Nested
    class NothingLeftBehind {
        @Test
        void releasedAndLapsedKeys_leaveNothingInRedis_withinTheGracePeriod() throws Exception {
            for (int i = 0; i < 200; i++) {
                String owner = "owner-" + i;
                redis.tryAcquire(List.of("released-" + i), owner, Duration.ofSeconds(30));
                redis.tryAcquire(List.of("released-" + i), owner, Duration.ofSeconds(30)); // re-entered
                redis.extend(List.of("released-" + i), owner, Duration.ofSeconds(30));
                redis.release(List.of("released-" + i), owner);
            }
            for (int i = 0; i < 50; i++) {
                redis.tryAcquire(List.of("lapsed-" + i, "lapsed-b-" + i), "owner-" + i, Duration.ofMillis(300));
                redis.tryAcquire(List.of("anonymous-" + i), null, null);
                redis.tryAcquire(List.of("all-of-" + i), "lister", null);
                redis.tryAcquire(List.of("purged-" + i), "purged-owner", Duration.ofSeconds(60));
            }
            redis.tryAcquire(List.of("waited"), "holder", null);
            redis.awaitRelease(List.of("waited"), Duration.ofMillis(10)); // leaves a "someone waits" mark
            redis.release(List.of("anonymous-0"), null);
            redis.releaseAll("lister");
            redis.releaseAll(null); // the anonymous, purged and waited ones
            assertThat(keysUnder(prefix)).isNotEmpty(); // tokens are kept for a short while

            await().atMost(KeyLayout.LAST_TOKEN_AFTERLIFE.plusSeconds(15)).pollInterval(Duration.ofMillis(250))
                    .untilAsserted(() -> {
                        Map<String, String> left = keysUnder(prefix);
                        assertThat(left.size()).as("keys left, such as %s", left.keySet().stream().limit(5).toList())
                                .isZero();
                    });
        }

        @Test
        void aHeldLock_keepsItsToken_andReleaseStillGivesAHigherOneAfterwards() {
            long t1 = token(redis.tryAcquire(List.of("k"), "me", Duration.ofMillis(200)), "k");
            await().atMost(Duration.ofSeconds(5)).until(() -> redis.inspect("k").isEmpty());
            long t2 = token(redis.tryAcquire(List.of("k"), "me", null), "k");
            assertThat(redis.inspect("k")).get().extracting(LockInfo::fencingToken).isEqualTo(t2);
            assertThat(t2).isGreaterThan(t1);
        }
    }

    @Nested
    class OverlappingPrefixes {
        @Test
        void prefixesThatStartAlike_neverTouchEachOthersData() {
            String base = "ovl-" + UUID.randomUUID() + ":";
            List<List<String>> pairs = List.of(
                    List.of(base, base + "owner:"),
                    List.of(base + "a", base + "aowner:"),
                    List.of(base + "b:", base + "b:released"),
                    List.of(base + "c", base + "c:fence"),
                    List.of(base + "d\\", base + "d\\owner:"));
            for (List<String> pair : pairs) {
                RedisLockingProvider a = provider(pair.get(0));
                RedisLockingProvider b = provider(pair.get(1));
                // Under the old layout, b's lock of "o" was a's owner index of owner "o", and the other way round.
                assertThat(b.tryAcquire(List.of("o", "{o}"), "p", null)).isInstanceOf(AcquireResult.Acquired.class);
                assertThat(a.tryAcquire(List.of("k"), "o", null)).isInstanceOf(AcquireResult.Acquired.class);
                assertThat(a.tryAcquire(List.of("p", "{p}"), "q", null)).isInstanceOf(AcquireResult.Acquired.class);
                assertThat(b.tryAcquire(List.of("k"), "o", null)).isInstanceOf(AcquireResult.Acquired.class);
                assertThat(a.tryAcquire(List.of("anonymous"), null, null)).isInstanceOf(AcquireResult.Acquired.class);
                assertThat(b.tryAcquire(List.of("anonymous"), null, null)).isInstanceOf(AcquireResult.Acquired.class);

                a.releaseAll("o");
                assertThat(a.inspect("k")).isEmpty();
                assertThat(b.inspect("k")).get().extracting(LockInfo::ownerId).isEqualTo("o");
                assertThat(b.inspect("o")).get().extracting(LockInfo::ownerId).isEqualTo("p");

                b.releaseAll(null);
                assertThat(b.inspect("o")).isEmpty();
                assertThat(b.inspect("k")).isEmpty();
                assertThat(a.inspect("p")).get().extracting(LockInfo::ownerId).isEqualTo("q");
                assertThat(a.inspect("anonymous")).isPresent();

                b.tryAcquire(List.of("again"), "q", null);
                a.releaseAll(null);
                assertThat(a.inspect("p")).isEmpty();
                assertThat(b.inspect("again")).get().extracting(LockInfo::ownerId).isEqualTo("q");
                b.releaseAll("q");
                assertThat(b.inspect("again")).isEmpty();
            }
        }
    }

    @Nested
    class ForeignData {
        private void plant(String... command) {
            try (RespClient admin = REDIS.admin()) {
                admin.call(command);
            }
        }

        @Test
        void aNonNumericToken_failsTheAcquire_andTakesNothing() {
            String fence = redis.layout().fenceKey("k");
            plant("SET", fence, "not a number");

            Throwable one = catchThrowable(() -> redis.tryAcquire(List.of("k"), "me", Duration.ofSeconds(30)));
            Throwable two = catchThrowable(() -> redis.tryAcquire(List.of("a", "k"), null, null));

            assertThat(keysUnder(prefix)).containsOnlyKeys(fence);
            assertThat(one).isExactlyInstanceOf(LockingException.class)
                    .hasMessageContaining("\"k\"")
                    .hasMessageContaining("token");
            assertThat(two).isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");
            try (RespClient admin = REDIS.admin()) {
                assertThat(admin.string("GET", fence)).isEqualTo("not a number");
            }
        }

        @Test
        void aWrongTypeOwnerIndex_failsTheAcquire_andTakesNothing() {
            String index = redis.layout().ownerIndexKey("me");
            plant("HSET", index, "field", "value");

            Throwable one = catchThrowable(() -> redis.tryAcquire(List.of("k"), "me", Duration.ofSeconds(30)));
            Throwable two = catchThrowable(() -> redis.tryAcquire(List.of("k", "l"), "me", null));

            assertThat(keysUnder(prefix)).containsOnlyKeys(index);
            assertThat(one).isExactlyInstanceOf(LockingException.class)
                    .hasMessageContaining("\"me\"")
                    .hasMessageContaining("owner");
            assertThat(two).isExactlyInstanceOf(LockingException.class);
            assertThat(redis.inspect("k")).isEmpty();
            // Other owners are not disturbed.
            assertThat(redis.tryAcquire(List.of("k"), "you", null)).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(redis.release(List.of("k"), "you")).isTrue();
        }

        @Test
        void aHashAtALockKey_failsEveryCallOnThatKey_andChangesNothing() {
            String lock = redis.layout().lockKey("k");
            plant("HSET", lock, "field", "value");
            redis.tryAcquire(List.of("other"), "me", null);
            Map<String, String> before = keysUnder(prefix);

            assertThatThrownBy(() -> redis.tryAcquire(List.of("k"), "me", null))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");
            assertThatThrownBy(() -> redis.tryAcquire(List.of("k", "other"), "me", Duration.ofSeconds(9)))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");
            assertThatThrownBy(() -> redis.release(List.of("k"), "me"))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");
            assertThatThrownBy(() -> redis.release(List.of("k", "other"), "me"))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");
            assertThatThrownBy(() -> redis.extend(List.of("k"), "me", Duration.ofSeconds(9)))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");
            assertThatThrownBy(() -> redis.inspect("k"))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");
            assertThatThrownBy(() -> redis.awaitRelease(List.of("k"), Duration.ofMillis(100)))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");

            assertThat(keysUnder(prefix)).isEqualTo(before);
            assertThat(redis.inspect("other")).get().extracting(LockInfo::ownerId).isEqualTo("me");

            // releaseAll leaves the foreign data alone and still releases the rest.
            redis.tryAcquire(List.of("anonymous"), null, null);
            assertThatCode(() -> redis.releaseAll(null)).doesNotThrowAnyException();
            assertThatCode(() -> redis.releaseAll("me")).doesNotThrowAnyException();
            assertThat(redis.inspect("other")).isEmpty();
            assertThat(redis.inspect("anonymous")).isEmpty();
            try (RespClient admin = REDIS.admin()) {
                assertThat(admin.string("TYPE", lock)).isEqualTo("hash");
            }
        }

        @Test
        void aWrongTypeWaitersMark_failsTheWait_andIsLeftAlone() {
            redis.tryAcquire(List.of("k"), "holder", null);
            String mark = KeyLayout.waitersKeyOf(redis.layout().lockKey("k"));
            plant("RPUSH", mark, "x");

            assertThatThrownBy(() -> redis.awaitRelease(List.of("k"), Duration.ofMillis(100)))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("\"k\"");
            assertThat(redis.release(List.of("k"), "holder")).isTrue();
            try (RespClient admin = REDIS.admin()) {
                assertThat(admin.string("TYPE", mark)).isEqualTo("list");
            }
        }

        @Test
        void foreignDataIsNotReportedAsAnUnreachableServer() {
            plant("HSET", redis.layout().lockKey("k"), "field", "value");

            assertThatThrownBy(() -> redis.tryAcquire(List.of("k"), "me", null))
                    .isNotInstanceOf(ProviderUnavailableException.class)
                    .hasMessageContaining("hash");
        }
    }

    @Nested
    class ExactOwners {
        @Test
        void aLookalikeOwner_cannotReenterOrRelease_andReleaseAllOfItFreesNothing() {
            String longOwner = "o".repeat(1024);
            Map<String, String> lookalikes = Map.of(
                    "a\u0000b", "a",
                    "a:b", "a\\:b",
                    "{a}", "a",
                    "a*", "ab",
                    "a\nb", "a\\nb",
                    "\uD83D\uDE00", "??",
                    longOwner, longOwner.substring(1),
                    "a\\(", "a{");
            int i = 0;
            for (Map.Entry<String, String> pair : lookalikes.entrySet()) {
                String owner = pair.getKey();
                String lookalike = pair.getValue();
                String key = "key-" + i++ + "-" + owner;
                assertThat(redis.tryAcquire(List.of(key), owner, null)).isInstanceOf(AcquireResult.Acquired.class);

                assertThat(redis.tryAcquire(List.of(key), lookalike, null)).isEqualTo(new AcquireResult.Conflict(key));
                assertThat(redis.release(List.of(key), lookalike)).isFalse();
                assertThat(redis.extend(List.of(key), lookalike, Duration.ofSeconds(5))).isFalse();
                redis.releaseAll(lookalike);
                assertThat(redis.inspect(key)).get().extracting(LockInfo::ownerId).isEqualTo(owner);

                // And the other way round: the lookalike's lock is not the owner's.
                String other = "other-" + key;
                redis.tryAcquire(List.of(other), lookalike, null);
                redis.releaseAll(owner);
                assertThat(redis.inspect(key)).isEmpty();
                assertThat(redis.inspect(other)).get().extracting(LockInfo::ownerId).isEqualTo(lookalike);
                assertThat(redis.release(List.of(other), lookalike)).isTrue();
            }
        }
    }
}
