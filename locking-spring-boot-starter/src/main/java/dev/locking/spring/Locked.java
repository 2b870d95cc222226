package dev.locking.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.core.annotation.AliasFor;

/**
 * Runs a bean method inside {@code LockingService.execute}: the method runs only while this application
 * holds its keys, and the keys are released when it returns or throws.
 *
 * <pre>{@code
 * @Locked("'order:' + #orderId")                                  // SpEL over the parameters, by name
 * public Order ship(long orderId) { ... }
 *
 * @Locked(keys = {"'stock:' + #sku", "'order:' + #orderId"}, timeout = "2s", expire = "1m", provider = "lp_redis")
 * public void reserve(String sku, long orderId) { ... }
 *
 * @Scheduled(cron = "0 0 * * * *")
 * @Locked(value = "'report:hourly'", onBusy = OnBusy.SKIP)       // another instance runs it: skip this run
 * public void hourlyReport() {
 *     long token = LockedContext.current().fencingToken("report:hourly");
 *     ...
 * }
 * }</pre>
 *
 * <h2>Keys</h2>
 * Each element of {@link #keys} is a SpEL expression evaluated at every call, with the method's parameters as
 * variables by name ({@code #orderId}; the code must be compiled with {@code -parameters}, which Spring Boot's parent POM
 * and Gradle plugin do; {@code #p0}/{@code #a0} work without it), {@code #root.method}, {@code #root.args} and
 * {@code #root.target}, and beans as {@code @name}. A literal key is a quoted string: {@code "'report:hourly'"}.
 * An expression may give a collection or an array: each element is one key. The call fails with an
 * {@link IllegalArgumentException} naming the method and the expression, and nothing is locked or run, when an
 * expression does not parse or fails, names a variable the method does not have, reads a parameter whose value
 * is null, or gives null, an empty or blank key, or no key at all.
 *
 * <h2>Where it applies</h2>
 * Calls through the Spring proxy of a bean: a call from the same object ({@code this.ship(1)}) is not locked,
 * as with {@code @Transactional}. The method runs on the calling thread; a method that returns a future is
 * locked only while it runs, not until the future completes.
 *
 * @since 0.2.0
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Locked {
    /**
     * The keys, as SpEL expressions; same as {@link #keys}.
     *
     * @return the key expressions
     */
    @AliasFor("keys")
    String[] value() default {};

    /**
     * The keys, as SpEL expressions, such as {@code "'order:' + #orderId"}.
     *
     * @return the key expressions
     */
    @AliasFor("value")
    String[] keys() default {};

    /**
     * How long to wait for the keys: a duration such as {@code 500ms}, {@code 2s} or {@code PT2S}, or a
     * {@code ${placeholder}}. Empty: the core's default (5 s); with {@link OnBusy#SKIP}, one attempt.
     *
     * @return the timeout, or empty
     */
    String timeout() default "";

    /**
     * The lease, renewed while the method runs: a duration such as {@code 30s} or {@code PT1M}, or a
     * {@code ${placeholder}}. Empty: the core's default (30 s).
     *
     * @return the lease, or empty
     */
    String expire() default "";

    /**
     * The provider id, such as {@code lp_redis}, or a {@code ${placeholder}}. Empty: the default provider.
     *
     * @return the provider id, or empty
     */
    String provider() default "";

    /**
     * What a call does when the keys are not free within the timeout.
     *
     * @return {@link OnBusy#WAIT} (the default: throw {@code LockTimeoutException}) or {@link OnBusy#SKIP}
     */
    OnBusy onBusy() default OnBusy.WAIT;
}
