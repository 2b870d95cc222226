package dev.locking.spring;

import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.context.expression.BeanFactoryResolver;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.SpelEvaluationException;
import org.springframework.expression.spel.SpelMessage;
import org.springframework.expression.spel.standard.SpelExpressionParser;

/**
 * The key expressions of one {@link Locked} method, parsed once, evaluated at each call.
 *
 * <p>Evaluation is strict, because a wrong key is a lock that excludes nothing: a variable the method does not
 * have, or a parameter whose value is null, fails the call instead of giving a key such as {@code "order:null"}.
 *
 * <p>Concurrency: immutable after construction; parsed SpEL expressions are safe to evaluate from many threads.
 */
final class LockedKeys {
    private static final SpelExpressionParser PARSER = new SpelExpressionParser();
    private static final ParameterNameDiscoverer NAMES = new DefaultParameterNameDiscoverer();

    private final String methodName;
    private final Method method;
    private final List<String> sources;
    private final List<Expression> expressions;
    /** Variables that exist: the parameters by name (when compiled with -parameters) and as p0/a0. */
    private final Set<String> variables;

    LockedKeys(String methodName, Method method, String[] sources) {
        this.methodName = methodName;
        this.method = method;
        if (sources.length == 0) {
            throw new IllegalArgumentException("@Locked on " + methodName + " names no key");
        }
        this.sources = List.of(sources);
        List<Expression> parsed = new ArrayList<>();
        for (String source : sources) {
            if (source.isBlank()) {
                throw new IllegalArgumentException("@Locked on " + methodName + " has a blank key expression");
            }
            try {
                parsed.add(PARSER.parseExpression(source));
            } catch (RuntimeException e) {
                throw failure(source, "does not parse: " + e.getMessage(), e);
            }
        }
        this.expressions = List.copyOf(parsed);
        Set<String> known = new HashSet<>();
        String[] names = NAMES.getParameterNames(method);
        if (names != null) {
            known.addAll(List.of(names));
        }
        for (int i = 0; i < method.getParameterCount(); i++) {
            known.add("p" + i);
            known.add("a" + i);
        }
        this.variables = Set.copyOf(known);
    }

    /**
     * Evaluates every expression for one call.
     *
     * @return the keys, in the order given; the core sorts them and drops duplicates
     * @throws IllegalArgumentException naming the method and the expression, if one fails or gives no usable key
     */
    List<String> evaluate(Object target, @Nullable Object[] args, @Nullable BeanFactory beans) {
        StrictContext context = new StrictContext(new Root(method, args, target), method, args, variables);
        if (beans != null) {
            context.setBeanResolver(new BeanFactoryResolver(beans));
        }
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < expressions.size(); i++) {
            String source = sources.get(i);
            Object value;
            try {
                value = expressions.get(i).getValue(context);
            } catch (RuntimeException e) {
                throw failure(source, "failed: " + e.getMessage() + literalHint(e), e);
            }
            addKeys(source, value, keys);
        }
        return keys;
    }

    private void addKeys(String source, @Nullable Object value, List<String> keys) {
        if (value instanceof Collection<?> collection) {
            if (collection.isEmpty()) {
                throw failure(source, "gave an empty collection", null);
            }
            collection.forEach(element -> keys.add(key(source, element)));
        } else if (value != null && value.getClass().isArray()) {
            int length = Array.getLength(value);
            if (length == 0) {
                throw failure(source, "gave an empty array", null);
            }
            for (int j = 0; j < length; j++) {
                keys.add(key(source, Array.get(value, j)));
            }
        } else {
            keys.add(key(source, value));
        }
    }

    private String key(String source, @Nullable Object value) {
        if (value == null) {
            throw failure(source, "gave null", null);
        }
        String key = value.toString();
        if (key.isBlank()) {
            throw failure(source, "gave a blank key \"" + key + "\"", null);
        }
        return key;
    }

    /** An unquoted literal ({@code report}) reads a property of the root; say how to write one. */
    private static String literalHint(RuntimeException e) {
        return e instanceof SpelEvaluationException spel && spel.getMessageCode() == SpelMessage.PROPERTY_OR_FIELD_NOT_READABLE
                ? " (a literal key is quoted: \"'report'\")" : "";
    }

    private IllegalArgumentException failure(String source, String what, @Nullable Throwable cause) {
        return new IllegalArgumentException("@Locked key expression \"" + source + "\" of " + methodName + " " + what,
                cause);
    }

    /** {@code #root}: the method, its arguments and the target object, as SpEL reads them (getters). */
    static final class Root {
        private final Method method;
        private final @Nullable Object[] args;
        private final Object target;

        Root(Method method, @Nullable Object[] args, Object target) {
            this.method = method;
            this.args = args;
            this.target = target;
        }

        public Method getMethod() {
            return method;
        }

        public @Nullable Object[] getArgs() {
            return args.clone();
        }

        public Object getTarget() {
            return target;
        }
    }

    /** A variable the method does not have, or a null parameter, fails the evaluation. */
    private static final class StrictContext extends MethodBasedEvaluationContext {
        private final Set<String> variables;

        StrictContext(Root root, Method method, @Nullable Object[] args, Set<String> variables) {
            super(root, method, args, NAMES);
            this.variables = variables;
        }

        @Override
        public @Nullable Object lookupVariable(String name) {
            Object value = super.lookupVariable(name);
            if (value == null) {
                if (!variables.contains(name)) {
                    throw new IllegalArgumentException("there is no variable #" + name + "; the parameters are "
                            + new TreeSet<>(variables) + " (parameter names need -parameters; a literal key"
                            + " is quoted: 'name')");
                }
                throw new IllegalArgumentException("parameter #" + name + " is null");
            }
            return value;
        }
    }
}
