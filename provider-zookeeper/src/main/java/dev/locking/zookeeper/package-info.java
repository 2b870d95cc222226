/**
 * The ZooKeeper provider, {@code lp_zookeeper}, built on Apache Curator.
 *
 * <p>The only public type is {@link dev.locking.zookeeper.ZookeeperProviderFactory}; it is found through
 * {@link java.util.ServiceLoader} and can also wrap a {@code CuratorFramework} the application already has.
 * Everything else is package-private.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.locking.zookeeper;

import org.jspecify.annotations.NullMarked;
