package dev.locking.example.orders;

import dev.locking.spring.Locked;
import dev.locking.spring.LockedContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.stereotype.Service;

/**
 * Orders and their payment. {@link #pay(long)} reads the order, charges the customer and marks it paid: three
 * steps that must not interleave for one order, so the method holds the lock {@code order:<id>} while it runs
 * (waiting up to 5 s for it). Different orders are paid in parallel.
 */
@Service
public class OrderService {
    private final Payments payments;
    private final Map<Long, Order> orders = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    OrderService(Payments payments) {
        this.payments = payments;
    }

    /**
     * Places an order.
     *
     * @param sku         what is bought
     * @param amountCents its price
     * @return the order's id
     */
    public long place(String sku, long amountCents) {
        long id = ids.incrementAndGet();
        orders.put(id, new Order(id, sku, amountCents, false));
        return id;
    }

    /**
     * Pays an order once: a second call finds it paid and charges nothing.
     *
     * @param orderId the order
     * @return what happened, with the lock's fencing token (a payment gateway could refuse a lower one)
     */
    @Locked("'order:' + #orderId")
    public Receipt pay(long orderId) {
        Order order = orders.get(orderId);
        if (order == null) {
            throw new IllegalArgumentException("no order " + orderId);
        }
        long token = LockedContext.current().fencingToken("order:" + orderId);
        if (order.paid()) {
            return new Receipt(orderId, false, token);
        }
        payments.charge(orderId, order.amountCents()); // a call to the payment gateway, in a real service
        orders.put(orderId, new Order(orderId, order.sku(), order.amountCents(), true));
        return new Receipt(orderId, true, token);
    }

    /**
     * One order.
     *
     * @param id          its id
     * @param sku         what is bought
     * @param amountCents its price
     * @param paid        whether it was paid
     */
    public record Order(long id, String sku, long amountCents, boolean paid) {
    }

    /**
     * The answer to one payment request.
     *
     * @param orderId the order
     * @param charged whether this request charged the customer (false: it was paid already)
     * @param token   the fencing token of the lock this request held
     */
    public record Receipt(long orderId, boolean charged, long token) {
    }
}
