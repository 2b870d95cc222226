package dev.locking.core;

import dev.locking.api.LockingService;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Argument checks shared by every call; they run before any provider is touched. */
final class Keys {

    /** Owner ids with this prefix are the ones {@code execute} makes; users may not pass them. */
    static final String EXECUTE_OWNER_PREFIX = LockingProvider.EXECUTE_OWNER_PREFIX;

    private Keys() {}

    /**
     * Checks the keys and returns them sorted and without duplicates.
     *
     * @throws IllegalArgumentException naming the first bad key
     */
    static List<String> canonical(@Nullable Collection<String> keys) {
        if (keys == null) {
            throw new IllegalArgumentException("keys must not be null");
        }
        int size = keys.size();
        if (size == 0) {
            throw new IllegalArgumentException("keys must not be empty");
        }
        if (size == 1) {
            String only = keys.iterator().next();
            check(only);
            return List.of(only);
        }
        List<String> sorted = new ArrayList<>(size);
        for (String key : keys) {
            check(key);
            sorted.add(key);
        }
        Collections.sort(sorted);
        int distinct = 1;
        for (int i = 1; i < sorted.size(); i++) {
            if (!sorted.get(i).equals(sorted.get(distinct - 1))) {
                sorted.set(distinct++, sorted.get(i));
            }
        }
        return List.copyOf(sorted.subList(0, distinct));
    }

    /** Checks one key. */
    static String check(@Nullable String key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        if (key.isEmpty()) {
            throw new IllegalArgumentException("key must not be empty");
        }
        if (key.length() > LockingService.MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("key must be at most " + LockingService.MAX_KEY_LENGTH
                    + " characters, got " + key.length() + " (key \"" + key.substring(0, 32) + "…\")");
        }
        return key;
    }

    /** Checks a lease given by the caller; null means none. */
    static @Nullable Duration lease(@Nullable Duration expire, List<String> keys) {
        return expire == null ? null : positiveLease(expire, keys);
    }

    /** Checks a lease that must be there. */
    static Duration positiveLease(Duration expire, List<String> keys) {
        if (expire.isZero() || expire.isNegative()) {
            throw new IllegalArgumentException("expire must be positive: " + expire + " (key \"" + keys.get(0) + "\")");
        }
        return expire;
    }

    /** Checks an owner id given by the caller; null means anonymous (or "none given"). */
    static @Nullable String owner(@Nullable String ownerId) {
        if (ownerId == null) {
            return null;
        }
        if (ownerId.isEmpty()) {
            throw new IllegalArgumentException("ownerId must not be empty; pass null for an anonymous lock");
        }
        if (ownerId.startsWith(EXECUTE_OWNER_PREFIX)) {
            throw new IllegalArgumentException("ownerId must not start with \"" + EXECUTE_OWNER_PREFIX
                    + "\": that prefix is reserved for the locks execute() takes (ownerId \"" + ownerId + "\")");
        }
        return ownerId;
    }
}
