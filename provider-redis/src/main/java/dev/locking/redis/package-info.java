/**
 * The Redis provider, {@code lp_redis}: locks in Redis through Redisson, one Lua script per operation.
 *
 * <p>Applications use it through {@code dev.locking.core.Locking} (the jar on the classpath is enough) or
 * build one around a {@code RedissonClient} they already have with
 * {@link dev.locking.redis.RedisProviderFactory#fromClient}. Everything else here is internal.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.locking.redis;

import org.jspecify.annotations.NullMarked;
