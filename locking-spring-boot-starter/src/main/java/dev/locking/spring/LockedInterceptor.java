package dev.locking.spring;

import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockedJob;
import dev.locking.api.LockingService;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.env.PropertyResolver;

/**
 * Runs a {@link Locked} method inside {@code LockingService.execute}.
 *
 * <p>Each call evaluates the keys first (a bad key fails the call before anything is locked), then runs the
 * method as the job of {@code execute}, with its handle on {@link LockedContext}. The method's own exceptions,
 * checked ones too, reach the caller unchanged, after the keys were released.
 *
 * <p>Concurrency: thread-safe; the per-method descriptions are computed once into a concurrent map. The service
 * is looked up at the first call, so the advisor never forces the service to be built early.
 */
final class LockedInterceptor implements MethodInterceptor {
    private static final Logger log = LoggerFactory.getLogger(Locked.class);

    private final ObjectProvider<LockingService> locking;
    private final PropertyResolver placeholders;
    private final @Nullable BeanFactory beans;
    private final ConcurrentMap<Method, LockedMethod> methods = new ConcurrentHashMap<>();

    LockedInterceptor(ObjectProvider<LockingService> locking, PropertyResolver placeholders,
            @Nullable BeanFactory beans) {
        this.locking = locking;
        this.placeholders = placeholders;
        this.beans = beans;
    }

    @Override
    @SuppressWarnings("NullAway") // the job's result may be null (T extends @Nullable Object); NullAway cannot see it
    public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
        Object target = invocation.getThis();
        if (target == null) {
            return invocation.proceed();
        }
        Class<?> targetClass = AopUtils.getTargetClass(target);
        Method method = AopUtils.getMostSpecificMethod(invocation.getMethod(), targetClass);
        LockedMethod locked = methods.get(method);
        if (locked == null) {
            locked = methods.computeIfAbsent(method, m -> describe(m, targetClass));
        }
        List<String> keys = locked.keys().evaluate(target, invocation.getArguments(), beans);
        AtomicBoolean started = new AtomicBoolean();
        try {
            LockedJob<@Nullable Object, Exception> job = lock -> {
                started.set(true);
                LockedContext.push(lock);
                try {
                    return proceed(invocation);
                } finally {
                    LockedContext.pop();
                }
            };
            return locking.getObject().execute(keys, job, locked.options());
        } catch (LockTimeoutException e) {
            if (locked.skipsWhenBusy() && !started.get()) {
                log.debug("Skipped {}: keys {} are busy", locked.name(), keys);
                return locked.skipped();
            }
            throw e;
        } catch (NonException carrier) {
            throw carrier.getCause();
        }
    }

    private LockedMethod describe(Method method, Class<?> targetClass) {
        Locked annotation = AnnotatedElementUtils.findMergedAnnotation(method, Locked.class);
        if (annotation == null) {
            throw new IllegalStateException("No @Locked on " + LockedMethod.describe(method, targetClass));
        }
        return new LockedMethod(method, targetClass, annotation, placeholders);
    }

    /** A job may throw exceptions and errors only; any other throwable travels wrapped. */
    private static @Nullable Object proceed(MethodInvocation invocation) throws Exception {
        try {
            return invocation.proceed();
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new NonException(t);
        }
    }

    /** Carries a throwable that is neither an exception nor an error through {@code execute}. */
    private static final class NonException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NonException(Throwable cause) {
            super(cause);
        }

        @Override
        public synchronized Throwable getCause() {
            Throwable cause = super.getCause();
            return cause == null ? this : cause;
        }
    }
}
