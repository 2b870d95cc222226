package dev.locking.example.orders;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.stereotype.Component;

/** Stands for the payment gateway: it counts the charges of each order, and sums them. */
@Component
public class Payments {
    private final Map<Long, AtomicLong> charges = new ConcurrentHashMap<>();
    private final Map<Long, AtomicLong> totals = new ConcurrentHashMap<>();

    void charge(long orderId, long amountCents) {
        charges.computeIfAbsent(orderId, id -> new AtomicLong()).incrementAndGet();
        totals.computeIfAbsent(orderId, id -> new AtomicLong()).addAndGet(amountCents);
    }

    /**
     * How many times an order was charged.
     *
     * @param orderId the order
     * @return the number of charges
     */
    public long charges(long orderId) {
        AtomicLong n = charges.get(orderId);
        return n == null ? 0 : n.get();
    }

    /**
     * How much an order was charged in all.
     *
     * @param orderId the order
     * @return the sum, in cents
     */
    public long total(long orderId) {
        AtomicLong n = totals.get(orderId);
        return n == null ? 0 : n.get();
    }
}
