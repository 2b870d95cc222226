package dev.locking.spring;

import dev.locking.core.Locking;

/**
 * Adjusts the {@link Locking.Builder} of the auto-configured {@code LockingService} before it is built: a
 * bean of this type can register a ready-made provider, a listener or an option that properties cannot
 * express. Customizers run in their {@code @Order}, after the properties and the listener beans were applied,
 * so what they set wins.
 *
 * <pre>{@code
 * @Bean
 * LockingBuilderCustomizer ordersRedis(RedissonClient ordersClient) {
 *     return builder -> builder.provider(RedisProviderFactory.fromClient("lp_orders", ordersClient));
 * }
 * }</pre>
 *
 * @since 0.2.0
 */
@FunctionalInterface
public interface LockingBuilderCustomizer {
    /**
     * Changes the builder.
     *
     * @param builder the builder of the service the application will get
     */
    void customize(Locking.Builder builder);
}
