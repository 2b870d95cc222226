package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.DefaultTransactionStatus;

/**
 * {@code @Locked} wraps {@code @Transactional}: the transaction commits while the keys are still held, so the next
 * holder reads what this one wrote.
 */
class LockedWithTransactionsTest {
    private static final List<String> COMMITS = new CopyOnWriteArrayList<>();

    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement
    static class Transactions {
        @Bean
        PlatformTransactionManager transactionManager() {
            return new RecordingTransactionManager();
        }

        @Bean
        Orders orders() {
            return new Orders();
        }
    }

    /** A bean whose method is both locked and transactional. */
    public static class Orders {
        @Locked("'order:' + #id")
        @Transactional
        public void ship(long id) {
            COMMITS.add("ran with lock " + LockedContext.find().isPresent());
        }
    }

    /** Records, at each commit, whether a @Locked method's keys are still held on this thread. */
    static final class RecordingTransactionManager extends AbstractPlatformTransactionManager {
        private static final long serialVersionUID = 1L;

        @Override
        protected Object doGetTransaction() {
            return new Object();
        }

        @Override
        protected void doBegin(Object transaction, TransactionDefinition definition) {}

        @Override
        protected void doCommit(DefaultTransactionStatus status) {
            COMMITS.add("commit with lock " + LockedContext.find().isPresent());
        }

        @Override
        protected void doRollback(DefaultTransactionStatus status) {}
    }

    @Test
    void theTransactionCommits_whileTheKeysAreHeld() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockingAutoConfiguration.class))
                .withUserConfiguration(Transactions.class).run(context -> {
                    COMMITS.clear();
                    context.getBean(Orders.class).ship(7);
                    assertThat(COMMITS).containsExactly("ran with lock true", "commit with lock true");
                });
    }
}
