package dev.locking.redis;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import java.util.List;
import java.util.Optional;
import org.redisson.api.RedissonClient;

/**
 * Creates {@code lp_redis} providers: locks kept in Redis (single server, Sentinel or Cluster) through
 * Redisson, one Lua script per operation.
 *
 * <p>Found by {@link java.util.ServiceLoader}: with this jar on the classpath, {@code Locking.create()}
 * offers {@code lp_redis}. Nothing connects when the provider is created; the Redisson client is made on
 * first use, and made again on a later call if Redis was down then.
 *
 * <h2>Options</h2>
 * Given as {@code locking.providers.redis.<option>} (or for a named instance
 * {@code locking.providers.<name>.<option>} with {@code type=redis}); durations take {@code PT5S},
 * {@code 5s}, {@code 500ms} or plain milliseconds.
 * <table>
 *   <caption>Options of lp_redis</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code address}</td><td>{@code redis://127.0.0.1:6379}</td><td>the server;
 *       {@code rediss://} for TLS. May carry {@code user:password@} and {@code /database}</td></tr>
 *   <tr><td>{@code username}</td><td>none</td><td>ACL user name (Redis 6+)</td></tr>
 *   <tr><td>{@code password}</td><td>none</td><td>password ({@code requirepass} or the ACL user's);
 *       never logged</td></tr>
 *   <tr><td>{@code database}</td><td>0</td><td>database number (single and sentinel only)</td></tr>
 *   <tr><td>{@code mode}</td><td>{@code single}</td><td>{@code single}, {@code sentinel} or
 *       {@code cluster}</td></tr>
 *   <tr><td>{@code nodes}</td><td>{@code address}</td><td>comma-separated addresses: the sentinels
 *       (sentinel) or some cluster nodes (cluster)</td></tr>
 *   <tr><td>{@code masterName}</td><td>none</td><td>the master's name; required with sentinel</td></tr>
 *   <tr><td>{@code keyPrefix}</td><td>{@code locking:}</td><td>namespace of every Redis key and of the
 *       channel; without <code>{</code> or <code>}</code></td></tr>
 *   <tr><td>{@code connectTimeout}</td><td>3 s</td><td>connecting to a node</td></tr>
 *   <tr><td>{@code timeout}</td><td>3 s</td><td>waiting for one reply</td></tr>
 *   <tr><td>{@code retryAttempts}</td><td>1</td><td>Redisson's retries of a command that could not be
 *       sent or got no reply</td></tr>
 *   <tr><td>{@code sslTruststore}, {@code sslTruststorePassword}</td><td>the JDK's</td><td>a trust store
 *       file for {@code rediss://} servers with their own certificate authority</td></tr>
 *   <tr><td>{@code config}</td><td>none</td><td>path to a Redisson YAML config, used as it is (then the
 *       connection options above must not be set; {@code keyPrefix} still applies)</td></tr>
 * </table>
 *
 * <h2>An application's own Redisson client</h2>
 * <pre>{@code
 * RedissonClient redisson = Redisson.create(config);
 * LockingService locking = Locking.builder()
 *         .provider(RedisProviderFactory.fromClient("lp_redis", redisson, "orders:locks:"))
 *         .build();
 * }</pre>
 * The provider then uses that client and never shuts it down.
 *
 * <h2>What is kept in Redis</h2>
 * For key prefix {@code P} and lock key {@code K}: the lock is the string {@code P{e(K)}}, whose value is
 * the owner id, or the empty string for an anonymous lock (owner ids are never empty, so no owner can match
 * it), and whose {@code PEXPIRE} is the lease; the key's last fencing token is {@code P{e(K)}:fence}, which
 * expires 5 seconds after the lock ends, so nothing stays per key. A new token is the server's clock in
 * microseconds ({@code TIME}), or one more than the last token if that is higher, so tokens keep rising
 * across release, expiry, {@code releaseAll()} and a Redis that lost its data, as long as the server's clock
 * does not step back. Each owner's locks are listed in the set {@code P{e(owner)}:owner}. Every key continues
 * the prefix with a brace, so two different prefixes never share a key. Release notifications go to the
 * channel {@code Preleased}, for the locks a waiter marked with {@code P{e(K)}:waiters} (a key that expires by
 * itself). A user with a Redis ACL needs the keys {@code P*}, the channel {@code Preleased} and the commands
 * {@code EVALSHA}, {@code SCRIPT LOAD}, {@code SUBSCRIBE}, {@code PUBLISH}, {@code SCAN} and {@code PING},
 * plus those the scripts run (the README lists them).
 *
 * <h2>Redis Cluster: which slot a lock lands in</h2>
 * {@code e(K)} is {@code K} with {@code \}, <code>{</code>, <code>}</code>, CR and LF escaped by a
 * backslash (and an unpaired surrogate written out), and the provider wraps it in its own hash tag. So a lock's slot is
 * {@code CRC16(e(K)) mod 16384}, computed from the whole key: braces in a key never pick its slot, and the
 * lock and its fencing token are always in the same slot. Keys of one call that fall in different slots
 * are taken slot by slot, in the order of each slot's smallest key, and the slots already taken are rolled
 * back when a later one conflicts.
 *
 * @since 0.1.0
 */
public final class RedisProviderFactory implements LockingProviderFactory {
    /** The provider type; the default instance's id is {@code lp_redis}. */
    public static final String TYPE = "redis";

    /** Creates the factory; {@link java.util.ServiceLoader} calls this. */
    public RedisProviderFactory() {
        // nothing to set up
    }

    @Override
    public String type() {
        return TYPE;
    }

    /**
     * Declares the options in the table above, with their formats; the core warns about any other option.
     *
     * @return the options of {@code lp_redis}
     */
    @Override
    public Optional<List<ProviderOption>> options() {
        return Optional.of(RedisSettings.OPTIONS);
    }

    /**
     * Creates a provider from options (see the class documentation). Reads the options and, with
     * {@code config}, the YAML file; does not connect.
     *
     * @throws IllegalArgumentException if an option has a value the provider cannot use; the message names
     *                                  the option and never shows a password or an address
     */
    @Override
    public LockingProvider create(ProviderConfig config) {
        return new RedisLockingProvider(config.id(), RedisSettings.parse(config), null);
    }

    /**
     * Creates a provider that works through an application's own Redisson client, with the default key
     * prefix {@code locking:}.
     *
     * @param id     the provider id to register it under, such as {@code lp_redis}
     * @param client the client; the provider never shuts it down
     * @return a provider for {@code Locking.builder().provider(...)}
     * @see #fromClient(String, RedissonClient, String)
     */
    public static LockingProvider fromClient(String id, RedissonClient client) {
        return fromClient(id, client, KeyLayout.DEFAULT_PREFIX);
    }

    /**
     * Creates a provider that works through an application's own Redisson client. The client's config
     * decides single server, Sentinel or Cluster, and its timeouts bound every call (a call that gets no
     * answer within the client's connect timeout, plus its response timeout for each attempt, plus a second,
     * fails with {@code ProviderUnavailableException}). Closing the provider removes its subscription and
     * leaves the client running.
     *
     * @param id        the provider id to register it under, such as {@code lp_redis}
     * @param client    the client; the provider never shuts it down
     * @param keyPrefix the namespace of every Redis key the provider writes, such as {@code locking:};
     *                  not empty, without <code>{</code> or <code>}</code>
     * @return a provider for {@code Locking.builder().provider(...)}
     * @throws IllegalArgumentException if {@code id} is blank or {@code keyPrefix} is not usable
     */
    public static LockingProvider fromClient(String id, RedissonClient client, String keyPrefix) {
        if (id.isBlank()) {
            throw new IllegalArgumentException("id must not be blank");
        }
        KeyLayout layout = new KeyLayout(keyPrefix);
        return new RedisLockingProvider(id, RedisSettings.forConfig(layout, client.getConfig(),
                "application's RedissonClient"), client);
    }
}
