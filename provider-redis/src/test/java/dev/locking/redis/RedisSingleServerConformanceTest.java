package dev.locking.redis;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.LockingProviderConformance;
import dev.locking.tck.TestConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole conformance kit against one Redis server, with two clients and several JVMs. */
class RedisSingleServerConformanceTest extends LockingProviderConformance {
    @RegisterExtension
    static final RedisServer REDIS = RedisServer.shared();

    /** This class's namespace: the kit's releaseAll() tests must not see anybody else's locks. */
    private final String prefix = "tck-" + UUID.randomUUID() + ":";

    /** Leaves nothing on a shared server: the kit released the locks; this removes what is within its grace. */
    @AfterAll
    void deleteThisClassesKeys() {
        REDIS.deleteKeysStartingWith(prefix);
    }

    @Override
    protected LockingProvider newProvider(String id) {
        return REDIS.provider(id, "keyPrefix", prefix);
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        return REDIS.provider(id, "keyPrefix", prefix);
    }

    @Override
    protected LockingProvider newUnreachableProvider(String id) {
        return new RedisProviderFactory().create(TestConfig.of(id, "address",
                "redis://127.0.0.1:" + closedPort(), "connectTimeout", "1s", "timeout", "1s"));
    }

    @Override
    protected InetSocketAddress backendAddress() {
        URI address = URI.create(REDIS.address());
        return new InetSocketAddress(address.getHost(), address.getPort());
    }

    @Override
    protected LockingProvider newProviderThrough(String id, InetSocketAddress proxy) {
        // Later options win: the address is replaced, credentials and database stay.
        return new RedisProviderFactory().create(TestConfig.of(id, REDIS.options("keyPrefix", prefix,
                "address", "redis://" + proxy.getHostString() + ":" + proxy.getPort(),
                "connectTimeout", "1s", "timeout", "1s")));
    }

    /** A hash where the lock of the key lives, and a string that is no token where its last token lives. */
    @Override
    protected boolean plantForeignData(String key) {
        KeyLayout layout = new KeyLayout(prefix);
        try (RespClient admin = REDIS.admin()) {
            admin.call("HSET", layout.lockKey(key), "planted", "by the test");
            admin.call("SET", layout.fenceKey(key), "not a token");
        }
        return true;
    }

    @Override
    protected Map<String, String> childJvmProperties() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("locking.default", PROVIDER_ID);
        properties.put("locking.providers.tck.type", "redis");
        String[] options = REDIS.options("keyPrefix", prefix);
        for (int i = 0; i + 1 < options.length; i += 2) {
            properties.put("locking.providers.tck." + options[i], options[i + 1]);
        }
        return properties;
    }
}
