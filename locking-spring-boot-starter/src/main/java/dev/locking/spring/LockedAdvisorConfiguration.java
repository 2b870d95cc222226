package dev.locking.spring;

import dev.locking.api.LockingService;
import org.springframework.aop.Advisor;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Role;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.context.annotation.Import;

/**
 * The advisor that applies {@link Locked}, and an auto-proxy creator to apply it (Spring keeps the strongest
 * one registered, so an application's own AOP setup is not replaced).
 *
 * <p>Order: {@value #ORDER} ({@code Ordered.LOWEST_PRECEDENCE - 100}), ahead of the advisors of
 * {@code @Transactional} and {@code @Cacheable} at their default order, so the lock is taken around them: a
 * transaction commits while the keys are still held, and the next holder reads what this one wrote.
 *
 * <p>The advisor is an infrastructure bean created through a static method, so it does not pull the
 * configuration or the {@code LockingService} into the early phase where bean post-processors are made.
 */
@Configuration(proxyBeanMethods = false)
@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
@Import(LockedAdvisorConfiguration.ProxyRegistrar.class)
class LockedAdvisorConfiguration {
    /** The advisor's order: just ahead of the default order of the transaction and cache advisors. */
    static final int ORDER = Ordered.LOWEST_PRECEDENCE - 100;

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static Advisor lockedAdvisor(ObjectProvider<LockingService> locking, Environment environment, BeanFactory beans) {
        AnnotationMatchingPointcut pointcut = new AnnotationMatchingPointcut(null, Locked.class, true);
        DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(pointcut,
                new LockedInterceptor(locking, environment, beans));
        advisor.setOrder(ORDER);
        return advisor;
    }

    /** Registers Spring's auto-proxy creator if the application has none. */
    static final class ProxyRegistrar implements ImportBeanDefinitionRegistrar {
        @Override
        public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
            AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
        }
    }
}
