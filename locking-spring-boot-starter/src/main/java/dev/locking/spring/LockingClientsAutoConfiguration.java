package dev.locking.spring;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.hazelcast.HazelcastProviderFactory;
import dev.locking.redis.RedisProviderFactory;
import dev.locking.zookeeper.ZookeeperProviderFactory;
import org.apache.curator.framework.CuratorFramework;
import org.redisson.api.RedissonClient;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;

/**
 * Lets a provider whose jar is present use the application's own client bean instead of opening its own
 * connection: {@code lp_redis} a {@code RedissonClient}, {@code lp_zookeeper} a {@code CuratorFramework} (started
 * by the application), {@code lp_hazelcast} a {@code HazelcastInstance}. Only when the application has one such
 * bean and sets no option of that provider except its namespace ({@code keyPrefix}, {@code namespace},
 * {@code mapName}); see {@link ApplicationClient}. These customizers run first, so the application's own
 * {@link LockingBuilderCustomizer} beans come after them.
 *
 * @since 0.2.0
 */
@AutoConfiguration(before = LockingAutoConfiguration.class)
public class LockingClientsAutoConfiguration {
    /** Created by Spring. */
    public LockingClientsAutoConfiguration() {}

    /** {@code lp_redis} on the application's {@code RedissonClient}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.redisson.api.RedissonClient", "dev.locking.redis.RedisProviderFactory"})
    static class Redis {
        @Bean
        @Order(Ordered.HIGHEST_PRECEDENCE)
        LockingBuilderCustomizer lockingRedissonClient(ObjectProvider<RedissonClient> clients, Environment environment,
                ConfigurableListableBeanFactory beans) {
            return new ApplicationClient<>(RedisProviderFactory.TYPE, RedissonClient.class, "keyPrefix",
                    (client, prefix) -> prefix == null ? RedisProviderFactory.fromClient("lp_redis", client)
                            : RedisProviderFactory.fromClient("lp_redis", client, prefix))
                    .customizer(clients, environment, beans);
        }
    }

    /** {@code lp_zookeeper} on the application's {@code CuratorFramework}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.apache.curator.framework.CuratorFramework",
            "dev.locking.zookeeper.ZookeeperProviderFactory"})
    static class Zookeeper {
        @Bean
        @Order(Ordered.HIGHEST_PRECEDENCE)
        LockingBuilderCustomizer lockingCuratorFramework(ObjectProvider<CuratorFramework> clients,
                Environment environment, ConfigurableListableBeanFactory beans) {
            return new ApplicationClient<>(ZookeeperProviderFactory.TYPE, CuratorFramework.class, "namespace",
                    (client, namespace) -> namespace == null ? ZookeeperProviderFactory.fromClient("lp_zookeeper", client)
                            : ZookeeperProviderFactory.fromClient("lp_zookeeper", client, namespace))
                    .customizer(clients, environment, beans);
        }
    }

    /** {@code lp_hazelcast} on the application's {@code HazelcastInstance}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"com.hazelcast.core.HazelcastInstance",
            "dev.locking.hazelcast.HazelcastProviderFactory"})
    static class Hazelcast {
        @Bean
        @Order(Ordered.HIGHEST_PRECEDENCE)
        LockingBuilderCustomizer lockingHazelcastInstance(ObjectProvider<HazelcastInstance> instances,
                Environment environment, ConfigurableListableBeanFactory beans) {
            return new ApplicationClient<>(HazelcastProviderFactory.TYPE, HazelcastInstance.class, "mapName",
                    (instance, map) -> map == null ? HazelcastProviderFactory.fromInstance("lp_hazelcast", instance)
                            : HazelcastProviderFactory.fromInstance("lp_hazelcast", instance, map))
                    .customizer(instances, environment, beans);
        }
    }
}
