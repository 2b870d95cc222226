package dev.locking.example.orders;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Profile;

/**
 * An order service with one rule that a lock keeps: an order is paid once, however many requests to pay it arrive
 * together (a double click, a retrying client, two instances behind a load balancer).
 *
 * <p>Run {@code main} from the IDE, or {@code ./mvnw -q install -DskipTests} once and then
 * {@code ./mvnw -q -pl examples/spring-boot exec:java}: it sends eight payments of the same order at once and prints
 * how often the customer was charged. The default
 * profile locks in this JVM ({@code lp_memory}); {@code --spring.profiles.active=redis} locks in Redis, so several
 * instances of the service exclude each other.
 */
@SpringBootApplication
public class OrderApplication {
    private static final Logger log = LoggerFactory.getLogger(OrderApplication.class);

    /**
     * Starts the service.
     *
     * @param args Spring Boot's arguments, such as {@code --spring.profiles.active=redis}
     */
    public static void main(String[] args) {
        SpringApplication.run(OrderApplication.class, args);
    }

    /** The demonstration: eight concurrent payments of one order; the customer is charged once. */
    @Bean
    @Profile("!test")
    ApplicationRunner payOneOrderEightTimesAtOnce(OrderService orders, Payments payments) {
        return args -> {
            long order = orders.place("sku-17", 4_200);
            ExecutorService clicks = Executors.newFixedThreadPool(8);
            try {
                List<Future<OrderService.Receipt>> receipts = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    receipts.add(clicks.submit(() -> orders.pay(order)));
                }
                for (Future<OrderService.Receipt> receipt : receipts) {
                    log.info("{}", receipt.get());
                }
            } finally {
                clicks.shutdown();
            }
            log.info("order {} was charged {} time(s), {} cents in all", order, payments.charges(order),
                    payments.total(order));
        };
    }
}
