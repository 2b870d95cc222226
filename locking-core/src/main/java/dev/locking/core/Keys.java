package dev.locking.core;

import dev.locking.api.LockingService;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Argument checks shared by every call; they run before any provider is touched.
 *
 * <p>One rule for keys and owner ids, whatever the provider: well-formed UTF-16 (no unpaired surrogate,
 * which backends would store as {@code ?} or drop, so two different strings would name one lock or one
 * owner) and at most 1024 characters (a backend's packet or key limit must never be what refuses one).
 */
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
                    + " characters, got " + key.length() + " (key \"" + printable(key.substring(0, 32)) + "…\")");
        }
        checkWellFormed(key, "key");
        return key;
    }

    /**
     * Throws if the string holds an unpaired surrogate, naming its position.
     *
     * @param what {@code key} or {@code ownerId}, for the message
     */
    private static void checkWellFormed(String value, String what) {
        int length = value.length();
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            if (!Character.isSurrogate(c)) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++; // a well-formed pair
                continue;
            }
            throw new IllegalArgumentException(what + " must be well-formed UTF-16: unpaired surrogate "
                    + String.format("\\u%04X", (int) c) + " at index " + i + " (" + what + " \""
                    + printable(value.length() > 64 ? value.substring(0, 64) + "…" : value) + "\")");
        }
    }

    /** The string with unpaired surrogates written as {@code \\uXXXX}, so a message or log shows them. */
    private static String printable(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1));
            if (paired) {
                sb.append(c).append(value.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append(String.format("\\u%04X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
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

    /**
     * The longest wait a call can ask for; a longer one is cut to it (nanosecond deadlines must not overflow,
     * and a wait of decades is "until the keys are free" in practice).
     */
    static final Duration MAX_WAIT = Duration.ofNanos(Long.MAX_VALUE / 4);

    /**
     * Checks the wait of an {@code acquire}.
     *
     * @return the wait to use, or null for none (one attempt): not given or zero
     * @throws IllegalArgumentException if it is negative, naming the first key
     */
    static @Nullable Duration acquireWait(@Nullable Duration wait, List<String> keys) {
        if (wait == null || wait.isZero()) {
            return null;
        }
        if (wait.isNegative()) {
            throw new IllegalArgumentException("wait must not be negative: " + wait + " (key \"" + keys.get(0) + "\")");
        }
        return wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait;
    }

    /** Checks an owner id given by the caller; null means anonymous (or "none given"). */
    static @Nullable String owner(@Nullable String ownerId) {
        if (ownerId == null) {
            return null;
        }
        if (ownerId.isEmpty()) {
            throw new IllegalArgumentException("ownerId must not be empty; pass null for an anonymous lock");
        }
        if (ownerId.length() > LockingService.MAX_OWNER_ID_LENGTH) {
            throw new IllegalArgumentException("ownerId must be at most " + LockingService.MAX_OWNER_ID_LENGTH
                    + " characters, got " + ownerId.length() + " (ownerId \"" + printable(ownerId.substring(0, 32))
                    + "…\")");
        }
        checkWellFormed(ownerId, "ownerId");
        if (ownerId.startsWith(EXECUTE_OWNER_PREFIX)) {
            throw new IllegalArgumentException("ownerId must not start with \"" + EXECUTE_OWNER_PREFIX
                    + "\": that prefix is reserved for the locks execute() takes (ownerId \"" + printable(ownerId) + "\")");
        }
        return ownerId;
    }
}
