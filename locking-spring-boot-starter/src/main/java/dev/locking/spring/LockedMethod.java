package dev.locking.spring;

import dev.locking.api.ExecuteOptions;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.env.PropertyResolver;

/**
 * What one {@link Locked} method asks for, read once from its annotation: its keys, its options and what it
 * does when the keys are busy.
 *
 * <p>Concurrency: immutable; shared by every call of the method.
 */
final class LockedMethod {
    /** The timeout of a skipping call without one: a single attempt, no wait worth the name. */
    static final Duration SKIP_TIMEOUT = Duration.ofMillis(1);

    private final String name;
    private final LockedKeys keys;
    private final ExecuteOptions options;
    private final boolean skip;
    private final boolean returnsOptional;

    /**
     * Reads the annotation.
     *
     * @throws IllegalArgumentException naming the method, if a key expression does not parse, a duration is not
     *                                  one, or {@code onBusy = SKIP} is on a method returning a primitive value
     */
    LockedMethod(Method method, Class<?> targetClass, Locked locked, PropertyResolver placeholders) {
        this.name = describe(method, targetClass);
        this.keys = new LockedKeys(name, method, locked.keys());
        this.skip = locked.onBusy() == OnBusy.SKIP;
        Class<?> returns = method.getReturnType();
        if (skip && returns.isPrimitive() && returns != void.class) {
            throw new IllegalArgumentException("@Locked(onBusy = SKIP) on " + name + ", which returns " + returns
                    + ": a skipped call has no value to return; return void, an object or an Optional");
        }
        this.returnsOptional = returns == Optional.class;
        Duration timeout = duration("timeout", locked.timeout(), placeholders);
        if (timeout == null && skip) {
            timeout = SKIP_TIMEOUT;
        }
        String provider = placeholders.resolveRequiredPlaceholders(locked.provider()).trim();
        this.options = ExecuteOptions.builder()
                .timeout(timeout)
                .expire(duration("expire", locked.expire(), placeholders))
                .provider(provider.isEmpty() ? null : provider)
                .build();
    }

    private @Nullable Duration duration(String attribute, String text, PropertyResolver placeholders) {
        String value = placeholders.resolveRequiredPlaceholders(text).trim();
        if (value.isEmpty()) {
            return null;
        }
        Duration duration;
        try {
            duration = DurationStyle.detectAndParse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("@Locked " + attribute + " \"" + value + "\" of " + name
                    + " is not a duration (such as 500ms, 2s or PT2S)", e);
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("@Locked " + attribute + " of " + name + " must be positive: " + value);
        }
        return duration;
    }

    /** {@code OrderService.ship(long)}: how messages name the method. */
    static String describe(Method method, Class<?> targetClass) {
        return targetClass.getSimpleName() + "." + method.getName() + Arrays.stream(method.getParameterTypes())
                .map(Class::getSimpleName).collect(Collectors.joining(", ", "(", ")"));
    }

    String name() {
        return name;
    }

    LockedKeys keys() {
        return keys;
    }

    ExecuteOptions options() {
        return options;
    }

    boolean skipsWhenBusy() {
        return skip;
    }

    /** What a skipped call returns. */
    @Nullable Object skipped() {
        return returnsOptional ? Optional.empty() : null;
    }
}
