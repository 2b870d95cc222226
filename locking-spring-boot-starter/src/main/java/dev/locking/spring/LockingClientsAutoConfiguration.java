package dev.locking.spring;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.hazelcast.HazelcastProviderFactory;
import dev.locking.postgres.PostgresProviderFactory;
import dev.locking.redis.RedisProviderFactory;
import dev.locking.zookeeper.ZookeeperProviderFactory;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.curator.framework.CuratorFramework;
import org.redisson.api.RedissonClient;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;

/**
 * Lets a provider whose jar is present use the application's own client bean instead of opening its own
 * connection: {@code lp_redis} a {@code RedissonClient}, {@code lp_zookeeper} a {@code CuratorFramework} (started
 * by the application), {@code lp_hazelcast} a {@code HazelcastInstance}, {@code lp_postgres} a PostgreSQL
 * {@code DataSource}. Only when the application has one such bean and sets no option of that provider that concerns
 * the connection (it may set {@code keyPrefix}, {@code namespace}, {@code mapName}, or lp_postgres's table
 * options); see {@link ApplicationClient}. These customizers run first, so the application's own
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
            return new ApplicationClient<>(RedisProviderFactory.TYPE, RedissonClient.class, Set.of("keyPrefix"),
                    (client, options) -> options.containsKey("keyPrefix")
                            ? RedisProviderFactory.fromClient("lp_redis", client, options.get("keyPrefix"))
                            : RedisProviderFactory.fromClient("lp_redis", client))
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
            return new ApplicationClient<>(ZookeeperProviderFactory.TYPE, CuratorFramework.class, Set.of("namespace"),
                    (client, options) -> options.containsKey("namespace")
                            ? ZookeeperProviderFactory.fromClient("lp_zookeeper", client, options.get("namespace"))
                            : ZookeeperProviderFactory.fromClient("lp_zookeeper", client))
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
            return new ApplicationClient<>(HazelcastProviderFactory.TYPE, HazelcastInstance.class, Set.of("mapName"),
                    (instance, options) -> options.containsKey("mapName")
                            ? HazelcastProviderFactory.fromInstance("lp_hazelcast", instance, options.get("mapName"))
                            : HazelcastProviderFactory.fromInstance("lp_hazelcast", instance))
                    .customizer(instances, environment, beans);
        }
    }

    /**
     * {@code lp_postgres} on the application's {@code DataSource}, when {@code spring.datasource.url} says it is a
     * PostgreSQL one (a DataSource of another database must not be handed to it). The options that do not concern
     * the connection may be set: {@code schema}, {@code table}, {@code createTable}, {@code timeout}.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"javax.sql.DataSource", "dev.locking.postgres.PostgresProviderFactory"})
    @ConditionalOnProperty(name = "spring.datasource.url")
    static class Postgres {
        private static final Set<String> TABLE_OPTIONS = Set.of("schema", "table", "createTable", "timeout");

        @Bean
        @Order(Ordered.HIGHEST_PRECEDENCE)
        LockingBuilderCustomizer lockingDataSource(ObjectProvider<DataSource> dataSources, Environment environment,
                ConfigurableListableBeanFactory beans) {
            String url = environment.getProperty("spring.datasource.url", "");
            if (!url.startsWith("jdbc:postgresql:")) {
                return builder -> { };
            }
            return new ApplicationClient<>(PostgresProviderFactory.TYPE, DataSource.class, TABLE_OPTIONS,
                    (dataSource, options) -> PostgresProviderFactory.fromDataSource("lp_postgres", dataSource, options))
                    .customizer(dataSources, environment, beans);
        }
    }
}
