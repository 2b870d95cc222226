package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code lp_redis} against a server with {@code requirepass} and an ACL user that may touch only the keys
 * and channel of its prefix.
 */
class RedisAuthTest {
    private static final String PASSWORD = "default-s3cret";
    private static final String ACL_USER = "locker";
    private static final String ACL_PASSWORD = "locker-s3cret";
    private static RedisProcess server;

    private final List<LockingProvider> providers = new ArrayList<>();

    @BeforeAll
    static void startServer() {
        server = RedisProcess.startWith(null, PASSWORD, "--requirepass", PASSWORD);
        try (RespClient admin = server.admin()) {
            // Only what lp_redis needs: its scripts (and the commands they run), the subscription, SCAN, PING.
            admin.call("ACL", "SETUSER", ACL_USER, "on", ">" + ACL_PASSWORD, "resetkeys", "~acl:*",
                    "resetchannels", "&acl:*", "-@all", "+evalsha", "+script|load", "+subscribe", "+unsubscribe",
                    "+publish", "+scan", "+ping", "+get", "+set", "+del", "+pexpire", "+persist", "+pttl", "+sadd",
                    "+srem", "+smembers", "+time", "+type", "+exists", "+lindex", "+lpop", "+rpush", "+lrem", "+hget",
                    "+hset", "+hdel");
        }
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeProviders() {
        providers.forEach(LockingProvider::close);
    }

    private LockingProvider provider(String... options) {
        LockingProvider p = new RedisProviderFactory().create(TestConfig.of("lp_redis", options));
        providers.add(p);
        return p;
    }

    @Test
    void thePassword_opensTheServer_givenAsOptionOrInTheAddress() {
        LockingProvider byOption = provider("address", server.address(), "password", PASSWORD, "keyPrefix", "pw1:");
        LockingProvider inAddress = provider("address", "redis://:" + PASSWORD + "@127.0.0.1:" + server.port(),
                "keyPrefix", "pw1:");

        assertThat(byOption.tryAcquire(List.of("k"), "me", null)).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(inAddress.inspect("k")).get().extracting(LockInfo::ownerId).isEqualTo("me");
        assertThat(inAddress.release(List.of("k"), "me")).isTrue();
    }

    @Test
    void aWrongOrMissingPassword_isProviderUnavailable_andNeverPrinted() {
        LockingProvider wrong = provider("address", server.address(), "password", "not-" + PASSWORD,
                "connectTimeout", "1s", "timeout", "1s");
        LockingProvider wrongInAddress = provider("address",
                "redis://someone:not-" + PASSWORD + "@127.0.0.1:" + server.port(), "timeout", "1s");
        LockingProvider none = provider("address", server.address(), "timeout", "1s");

        for (LockingProvider p : List.of(wrong, wrongInAddress, none)) {
            assertThatThrownBy(() -> p.tryAcquire(List.of("k"), "me", null))
                    .isInstanceOf(ProviderUnavailableException.class)
                    .hasMessageStartingWith("lp_redis: ")
                    .satisfies(e -> RedisProviderTest.assertNoSecretIn(e, "not-" + PASSWORD, "someone"))
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("redis://", "127.0.0.1"));
        }
    }

    @Test
    void anAclUserLimitedToThePrefix_canDoEverything() throws Exception {
        LockingProvider a = provider("address", server.address(), "username", ACL_USER, "password", ACL_PASSWORD,
                "keyPrefix", "acl:");
        LockingProvider b = new RedisLockingProvider("lp_redis", RedisSettings.parse(TestConfig.of("lp_redis",
                "address", "redis://" + ACL_USER + ":" + ACL_PASSWORD + "@127.0.0.1:" + server.port(),
                "keyPrefix", "acl:")), null, Duration.ofMinutes(1));
        providers.add(b);

        long token = ((AcquireResult.Acquired) a.tryAcquire(List.of("x", "y"), "me", Duration.ofSeconds(30)))
                .fencingTokens().get("x");
        assertThat(b.inspect("x")).get()
                .extracting(LockInfo::fencingToken).isEqualTo(token);
        assertThat(a.extend(List.of("x", "y"), "me", Duration.ofSeconds(30))).isTrue();
        assertThat(b.tryAcquire(List.of("y"), "other", null)).isEqualTo(new AcquireResult.Conflict("y"));

        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> waiting = pool.submit(() -> {
                b.awaitRelease(List.of("y"), Duration.ofMinutes(1));
                return null;
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> ((RedisLockingProvider) b).sleepingWaiters() == 1);
            a.releaseAll("me");
            waiting.get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }

        a.tryAcquire(List.of("z"), null, null);
        a.releaseAll(null);
        assertThat(a.inspect("z")).isEmpty();
    }

    @Test
    void anAclUser_cannotWorkOutsideItsPrefix() {
        LockingProvider outside = provider("address", server.address(), "username", ACL_USER, "password",
                ACL_PASSWORD, "keyPrefix", "elsewhere:");

        for (ThrowingCallable call : List.<ThrowingCallable>of(
                () -> outside.tryAcquire(List.of("k"), "me", null),
                () -> outside.release(List.of("k"), "me"),
                () -> outside.inspect("k"))) {
            // The server answered: this is a refusal, not an unreachable backend.
            assertThatThrownBy(call)
                    .isExactlyInstanceOf(LockingException.class)
                    .hasMessageContaining("permission denied")
                    .hasMessageContaining("NOPERM")
                    .satisfies(e -> RedisProviderTest.assertNoSecretIn(e, ACL_PASSWORD));
        }
        try (RespClient admin = server.admin()) {
            assertThat(admin.call("KEYS", "elsewhere:*")).isEqualTo(List.of());
        }
    }
}
