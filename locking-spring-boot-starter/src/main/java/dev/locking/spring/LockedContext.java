package dev.locking.spring;

import dev.locking.api.LockHandle;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * The lock of the {@link Locked} method running on this thread, for its fencing tokens and to check that the
 * lease still holds.
 *
 * <pre>{@code
 * @Locked("'invoice:' + #id")
 * public void send(long id) {
 *     LockHandle lock = LockedContext.current();
 *     store.write(id, lock.fencingToken("invoice:" + id));   // the store refuses a token lower than one it saw
 * }
 * }</pre>
 * Nested {@code @Locked} calls see their own handle; the outer one's comes back when the inner call returns.
 *
 * <p>Concurrency: one stack per thread; a handle is visible only to the thread that runs the method.
 *
 * @since 0.2.0
 */
public final class LockedContext {
    private static final ThreadLocal<Deque<LockHandle>> HANDLES = ThreadLocal.withInitial(ArrayDeque::new);

    private LockedContext() {}

    /**
     * The handle of the innermost {@link Locked} method running on this thread.
     *
     * @return the handle
     * @throws IllegalStateException if no {@code @Locked} method is running on this thread
     */
    public static LockHandle current() {
        LockHandle handle = HANDLES.get().peek();
        if (handle == null) {
            throw new IllegalStateException("No @Locked method is running on this thread");
        }
        return handle;
    }

    /**
     * The handle of the innermost {@link Locked} method running on this thread, if there is one.
     *
     * @return the handle, or empty
     */
    public static Optional<LockHandle> find() {
        return Optional.ofNullable(HANDLES.get().peek());
    }

    static void push(LockHandle handle) {
        HANDLES.get().push(handle);
    }

    static void pop() {
        Deque<LockHandle> handles = HANDLES.get();
        handles.pop();
        if (handles.isEmpty()) {
            HANDLES.remove();
        }
    }
}
