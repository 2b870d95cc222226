package dev.locking.core;

import dev.locking.api.LockHandle;
import dev.locking.api.LockLostException;
import java.util.List;

/**
 * The handle of a nested {@code execute} whose keys are all held by an enclosing call of the same thread.
 *
 * <p>Concurrency: immutable; what it reports (lost or not) comes from the enclosing {@link Execution}, which
 * is safe to read from any thread.
 */
final class NestedHandle implements LockHandle {
    private final Execution enclosing;
    private final List<String> keys;

    NestedHandle(Execution enclosing, List<String> keys) {
        this.enclosing = enclosing;
        this.keys = keys;
    }

    @Override
    public String providerId() {
        return enclosing.providerId();
    }

    @Override
    public List<String> keys() {
        return keys;
    }

    @Override
    public long fencingToken(String key) {
        if (!keys.contains(key)) {
            throw new IllegalArgumentException("key \"" + key + "\" is not locked by this call; its keys are " + keys);
        }
        return enclosing.inheritedToken(key);
    }

    @Override
    public boolean isLost() {
        return enclosing.isLost();
    }

    @Override
    public void throwIfLost() {
        if (isLost()) {
            throw new LockLostException(enclosing.lostMessage());
        }
    }
}
