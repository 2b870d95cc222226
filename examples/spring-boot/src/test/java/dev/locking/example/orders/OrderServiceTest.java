package dev.locking.example.orders;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockingService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;

/** The example as an application: application.yml, the starter's auto-configuration, and @Locked under load. */
@SpringBootTest
@ActiveProfiles("test")
class OrderServiceTest {
    private final ExecutorService clicks = Executors.newFixedThreadPool(8);

    @Autowired
    OrderService orders;

    @Autowired
    Payments payments;

    @Autowired
    LockingService locking;

    @AfterEach
    void stop() {
        clicks.shutdownNow();
    }

    @Test
    void theServiceLocksOnTheProviderApplicationYmlNames() {
        assertThat(locking.defaultProviderId()).isEqualTo("lp_memory");
    }

    @Test
    void eightPaymentsOfOneOrderAtOnce_chargeTheCustomerOnce() throws Exception {
        for (int round = 0; round < 20; round++) {
            long order = orders.place("sku-17", 4_200);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<OrderService.Receipt>> receipts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                receipts.add(clicks.submit(() -> {
                    go.await();
                    return orders.pay(order);
                }));
            }
            go.countDown();
            int charged = 0;
            for (Future<OrderService.Receipt> receipt : receipts) {
                if (receipt.get(30, TimeUnit.SECONDS).charged()) {
                    charged++;
                }
            }
            assertThat(charged).isEqualTo(1);
            assertThat(payments.charges(order)).isEqualTo(1);
            assertThat(payments.total(order)).isEqualTo(4_200);
            assertThat(locking.inspect("order:" + order)).isEmpty();
        }
    }

    @Test
    void eachPaymentHeldTheLock_withAFencingTokenThatGrows() throws Exception {
        long order = orders.place("sku-18", 100);
        long first = orders.pay(order).token();
        long second = orders.pay(order).token();
        assertThat(second).isGreaterThan(first);
        assertThat(payments.charges(order)).isEqualTo(1);
    }
}
