package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.AcquireOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockInfo;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.api.ReleaseOptions;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Keys and owner ids that a backend's naming rules could bend (separators, path segments, wildcards, hash
 * tags, escapes, control characters, characters outside the BMP, the longest allowed) and the checks that
 * each one means exactly itself: it round-trips, and a lookalike is another key or another owner.
 *
 * <p>The checks run against a {@link Client}, so that the kit can run them through a {@link LockingService}
 * and straight through the SPI.
 */
final class HostileInput {
    /** The longest key and owner id the core accepts. */
    static final int MAX_LENGTH = LockingService.MAX_KEY_LENGTH;

    private static final Duration LEASE = Duration.ofSeconds(60); // leftovers of a crashed run lapse

    private HostileInput() {}

    /**
     * Strings that are valid keys and owner ids (well-formed UTF-16, not empty, at most 1024 characters), by
     * a short description.
     */
    static Map<String, String> values() {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("NUL", "\u0000");
        v.put("NUL inside", "nul\u0000inside");
        v.put("slash", "/");
        v.put("slashes", "/a//b/");
        v.put("dot", ".");
        v.put("dot dot", "..");
        v.put("parent path", "../../etc");
        v.put("colon", ":");
        v.put("colons", "a:b::c");
        v.put("braces", "{");
        v.put("closing brace", "}");
        v.put("hash tag", "{tag}x");
        v.put("star", "*");
        v.put("question mark", "?");
        v.put("glob", "a*b?[c]");
        v.put("backslash", "\\");
        v.put("escape-like", "\\u0000\\n%00%2F");
        v.put("space", " ");
        v.put("spaces around", "  padded  ");
        v.put("newline", "\n");
        v.put("line breaks", "a\r\nb\n");
        v.put("tab and controls", "\t\u0001\u001f\u007f");
        v.put("separators", "=,;#!&|\"'`$");
        v.put("emoji", "\uD83D\uDE00");
        v.put("emoji inside", "a\uD83D\uDD12b\uD83D\uDD11");
        v.put("replacement character", "\uFFFD");
        v.put("non-ASCII", "\u043a\u043b\u044e\u0447-\u30ad\u30fc-\u00e9");
        return v;
    }

    /**
     * A string of exactly {@code length} characters that starts with {@code start} and repeats hostile
     * characters, without splitting a surrogate pair at the end.
     */
    static String longest(String start, int length) {
        String pattern = "/.:{}*?\\ \n\u0000\uD83D\uDE00";
        StringBuilder b = new StringBuilder(start);
        int i = 0;
        while (true) {
            int cp = pattern.codePointAt(i);
            if (b.length() + Character.charCount(cp) > length) {
                break;
            }
            b.appendCodePoint(cp);
            i = (i + Character.charCount(cp)) % pattern.length();
        }
        while (b.length() < length) {
            b.append('x');
        }
        return b.toString();
    }

    /** Owner ids that a lossy encoding could map onto each other. */
    static List<String> lookalikeOwners() {
        return List.of("v", "v?", "v\u0000", "v\uFFFD", "v ", "V", "v\\0");
    }

    /** Key suffixes that a lossy or escaping encoding could map onto each other. */
    static List<String> lookalikeKeySuffixes() {
        return List.of("x", "X", "x?", "x\u0000", "x\uFFFD", "x ", "x/", "x/.", "x%00", "x\\0",
                "a/b", "a%2Fb", "a%2fb", "a:b", "a.b", "a_b", "a b", "a\nb", "a\\nb",
                "\uD83D\uDE00", "??", "\uFFFD\uFFFD", "{a}b", "{a}c");
    }

    // -------------------------------------------------------------------------------------------------------
    // The checks
    // -------------------------------------------------------------------------------------------------------

    /** Takes {@code key} for {@code owner}, re-enters, reads it back exactly, and releases it. */
    static void assertRoundTrip(Client client, String key, String owner, String what) {
        Map<String, Long> tokens = client.acquire(key, owner);
        assertThat(tokens).as("%s: acquire of a free key", what).isNotNull();
        assertThat(tokens).as("%s: tokens", what).containsOnlyKeys(key);
        Optional<LockInfo> info = client.inspect(key);
        assertThat(info).as("%s: inspect", what).isPresent();
        assertThat(info.get().key()).as("%s: the key inspect reports", what).isEqualTo(key);
        assertThat(info.get().ownerId()).as("%s: the owner inspect reports", what).isEqualTo(owner);
        assertThat(info.get().fencingToken()).as("%s: the token inspect reports", what).isEqualTo(tokens.get(key));
        assertThat(client.acquire(key, owner)).as("%s: re-entry by the same owner", what).isEqualTo(tokens);
        assertThat(client.release(key, owner)).as("%s: release by its owner", what).isTrue();
        assertThat(client.inspect(key)).as("%s: inspect after the release", what).isEmpty();
    }

    /**
     * Each owner takes a key of its own; no lookalike may re-enter or release another's key, and
     * {@code releaseAll(owner)} frees exactly that owner's key.
     */
    static void assertLookalikeOwnersAreDistinct(Client client, String keyPrefix) {
        List<String> owners = lookalikeOwners();
        List<String> keys = new ArrayList<>();
        Map<String, Long> tokens = new LinkedHashMap<>();
        for (int i = 0; i < owners.size(); i++) {
            String key = keyPrefix + "owned-" + i;
            keys.add(key);
            Map<String, Long> t = client.acquire(key, owners.get(i));
            assertThat(t).as("acquire of %s by %s", key, quoted(owners.get(i))).isNotNull();
            tokens.put(key, t.get(key));
        }
        for (int i = 0; i < owners.size(); i++) {
            for (int j = 0; j < owners.size(); j++) {
                if (i == j) {
                    continue;
                }
                String key = keys.get(i);
                String other = owners.get(j);
                String what = "lock of " + quoted(owners.get(i)) + " on " + key + ", by " + quoted(other);
                assertThat(client.acquire(key, other)).as("re-entry into the %s", what).isNull();
                assertThat(client.release(key, other)).as("release of the %s", what).isFalse();
                assertThat(client.extend(key, other)).as("extend of the %s", what).isFalse();
            }
        }
        for (int i = 0; i < owners.size(); i++) {
            client.releaseAll(owners.get(i));
            for (int k = 0; k < keys.size(); k++) {
                Optional<LockInfo> info = client.inspect(keys.get(k));
                String what = "after releaseAll(" + quoted(owners.get(i)) + "), the lock of "
                        + quoted(owners.get(k)) + " on " + keys.get(k);
                if (k <= i) {
                    assertThat(info).as(what).isEmpty();
                } else {
                    assertThat(info).as(what).isPresent();
                    assertThat(info.get().ownerId()).as(what).isEqualTo(owners.get(k));
                    assertThat(info.get().fencingToken()).as(what).isEqualTo(tokens.get(keys.get(k)));
                }
            }
        }
    }

    /** Lookalike keys are different locks: each can be taken while the others are held, and read back. */
    static void assertLookalikeKeysAreDistinct(Client client, String keyPrefix) {
        List<String> keys = new ArrayList<>();
        for (String suffix : lookalikeKeySuffixes()) {
            keys.add(keyPrefix + suffix);
        }
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            assertThat(client.acquire(key, "owner-" + i))
                    .as("acquire of %s while %s are held: two keys must be two locks", quoted(key),
                            quotedAll(keys.subList(0, i)))
                    .isNotNull();
        }
        for (int i = 0; i < keys.size(); i++) {
            Optional<LockInfo> info = client.inspect(keys.get(i));
            assertThat(info).as("inspect(%s)", quoted(keys.get(i))).isPresent();
            assertThat(info.get().key()).isEqualTo(keys.get(i));
            assertThat(info.get().ownerId()).as("owner of %s", quoted(keys.get(i))).isEqualTo("owner-" + i);
        }
        assertThat(client.release(keys.get(0), "owner-0")).isTrue();
        for (int i = 1; i < keys.size(); i++) {
            assertThat(client.inspect(keys.get(i))).as("%s after %s was released", quoted(keys.get(i)),
                    quoted(keys.get(0))).isPresent();
        }
        for (int i = 1; i < keys.size(); i++) {
            assertThat(client.release(keys.get(i), "owner-" + i)).as("release of %s", quoted(keys.get(i))).isTrue();
        }
    }

    /** Shows control and non-ASCII characters as Java escapes, so that a failure message tells lookalikes apart. */
    static String quoted(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                b.append(c);
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.append('"').toString();
    }

    private static String quotedAll(List<String> keys) {
        List<String> q = new ArrayList<>();
        keys.forEach(k -> q.add(quoted(k)));
        return q.toString();
    }

    // -------------------------------------------------------------------------------------------------------
    // Two ways in
    // -------------------------------------------------------------------------------------------------------

    /** The calls the checks make, on one key at a time. */
    interface Client {
        /** Takes the key with a lease of a minute; returns its tokens, or null when someone else holds it. */
        @Nullable Map<String, Long> acquire(String key, String owner);

        boolean extend(String key, String owner);

        boolean release(String key, String owner);

        void releaseAll(String owner);

        Optional<LockInfo> inspect(String key);
    }

    /** Through a service, as applications call it; also checks what the returned lease says. */
    static Client through(LockingService service) {
        return new Client() {
            @Override
            public @Nullable Map<String, Long> acquire(String key, String owner) {
                Lease lease;
                try {
                    lease = service.acquire(key, AcquireOptions.builder().ownerId(owner).expire(LEASE).build());
                } catch (LockAcquisitionException e) {
                    assertThat(e.getKey()).as("the key a conflict names").isEqualTo(key);
                    return null;
                }
                assertThat(lease.keys()).as("keys of the lease").containsExactly(key);
                assertThat(lease.ownerId()).as("owner of the lease").isEqualTo(owner);
                return lease.fencingTokens();
            }

            @Override
            public boolean extend(String key, String owner) {
                // Not part of the public API: a re-entry with an expiry is how an application extends.
                return acquire(key, owner) != null;
            }

            @Override
            public boolean release(String key, String owner) {
                return service.release(key, ReleaseOptions.builder().ownerId(owner).build());
            }

            @Override
            public void releaseAll(String owner) {
                service.releaseAll(ReleaseAllOptions.builder().ownerId(owner).build());
            }

            @Override
            public Optional<LockInfo> inspect(String key) {
                return service.inspect(key);
            }
        };
    }

    /** Straight through the SPI, as the core calls a provider. */
    static Client through(LockingProvider provider) {
        return new Client() {
            @Override
            public @Nullable Map<String, Long> acquire(String key, String owner) {
                AcquireResult result = provider.tryAcquire(List.of(key), owner, LEASE);
                if (result instanceof AcquireResult.Conflict conflict) {
                    assertThat(conflict.key()).as("the key a conflict names").isEqualTo(key);
                    return null;
                }
                return ((AcquireResult.Acquired) result).fencingTokens();
            }

            @Override
            public boolean extend(String key, String owner) {
                return provider.extend(List.of(key), owner, LEASE);
            }

            @Override
            public boolean release(String key, String owner) {
                return provider.release(List.of(key), owner);
            }

            @Override
            public void releaseAll(String owner) {
                provider.releaseAll(owner);
            }

            @Override
            public Optional<LockInfo> inspect(String key) {
                return provider.inspect(key);
            }
        };
    }
}
