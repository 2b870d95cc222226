package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.AcquireResult.Conflict;
import dev.locking.spi.LockingProvider;
import java.text.Normalizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every well-formed key and owner id is stored exactly: one that only looks alike (a surrogate pair against
 * question marks, a NUL dropped, another Unicode normal form) is another lock and another owner.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StringFidelityTest {

    private @Nullable HazelcastInstance member;
    private @Nullable HazelcastInstance client;
    private @Nullable LockingProvider provider;

    @BeforeAll
    void start() {
        String cluster = TestMembers.clusterName("fidelity");
        member = TestMembers.startMember(cluster);
        client = TestMembers.client(cluster, TestMembers.address(member));
        provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", client, "map-" + UUID.randomUUID());
    }

    @AfterAll
    void stop() {
        if (provider != null) {
            provider.close();
        }
        if (client != null) {
            client.shutdown();
        }
        if (member != null) {
            member.shutdown();
        }
    }

    private LockingProvider provider() {
        return Objects.requireNonNull(provider);
    }

    static List<String> strings() {
        return List.of(
                "nul\u0000inside", "\u0000", "?", "??", "emoji \uD83D\uDE00", "\uD83D\uDE00", "\uD83D\uDE00?",
                "sep :/\\.|,;=#{}[]*%\"' \t\n\r", "caf\u00E9", "cafe\u0301", "\uFFFD", "\uFEFFbom",
                "k".repeat(1023) + "\uD83D", "k".repeat(1022) + "\uD83D\uDE00", "x".repeat(1024));
    }

    /** Strings a mangling encoder or a careless comparison could confuse with {@code s}. */
    static Set<String> lookalikes(String s) {
        Set<String> alike = new LinkedHashSet<>();
        StringBuilder questionMarks = new StringBuilder();
        StringBuilder oneMark = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            questionMarks.append(Character.isSurrogate(c) ? '?' : c);
            if (Character.isHighSurrogate(c)) {
                oneMark.append('?');
            } else if (!Character.isLowSurrogate(c)) {
                oneMark.append(c);
            }
        }
        alike.add(questionMarks.toString());
        alike.add(oneMark.toString());
        alike.add(s.replace("\u0000", ""));
        alike.add(s.replace("\u0000", " "));
        alike.add(s.replace("?", "\uFFFD"));
        alike.add(s.replace("\uFFFD", "?"));
        alike.add(Normalizer.normalize(s, Normalizer.Form.NFC));
        alike.add(Normalizer.normalize(s, Normalizer.Form.NFD));
        alike.add(s.strip());
        alike.add(s + "\u0000");
        alike.remove(s);
        alike.remove("");
        return alike;
    }

    static List<String> wellFormed() {
        List<String> strings = new ArrayList<>();
        for (String s : strings()) {
            if (s.codePoints().noneMatch(cp -> cp >= 0xD800 && cp <= 0xDFFF)) {
                strings.add(s);
            }
        }
        return strings;
    }

    @ParameterizedTest
    @MethodSource("wellFormed")
    void aKey_roundTripsExactly_andALookalikeKeyIsAnotherLock(String key) {
        LockingProvider p = provider();
        long token = ((Acquired) p.tryAcquire(List.of(key), "owner", Duration.ofMinutes(1))).fencingTokens().get(key);
        LockInfo info = p.inspect(key).orElseThrow();
        assertThat(info.key()).isEqualTo(key);
        assertThat(info.fencingToken()).isEqualTo(token);
        for (String alike : lookalikes(key)) {
            assertThat(p.inspect(alike)).as("inspect %s", escape(alike)).isEmpty();
            assertThat(p.tryAcquire(List.of(alike), "someone else", Duration.ofMinutes(1)))
                    .as("acquire %s", escape(alike)).isInstanceOf(Acquired.class);
            assertThat(p.release(List.of(alike), "someone else")).isTrue();
        }
        assertThat(p.tryAcquire(List.of(key), "owner", null)).isInstanceOf(Acquired.class);
        assertThat(p.release(List.of(key), "owner")).isTrue();
        assertThat(p.inspect(key)).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("wellFormed")
    void anOwner_roundTripsExactly_andALookalikeOwnerCanNeitherReenterNorRelease(String owner) {
        LockingProvider p = provider();
        String key = "owned-" + UUID.randomUUID();
        long token = ((Acquired) p.tryAcquire(List.of(key), owner, Duration.ofMinutes(1))).fencingTokens().get(key);
        assertThat(p.inspect(key).orElseThrow().ownerId()).isEqualTo(owner);
        for (String alike : lookalikes(owner)) {
            assertThat(p.tryAcquire(List.of(key), alike, null)).as("re-enter as %s", escape(alike))
                    .isInstanceOf(Conflict.class);
            assertThat(p.extend(List.of(key), alike, Duration.ofMinutes(1))).as("extend as %s", escape(alike))
                    .isFalse();
            assertThat(p.release(List.of(key), alike)).as("release as %s", escape(alike)).isFalse();
            p.releaseAll(alike);
            assertThat(p.inspect(key)).as("after releaseAll(%s)", escape(alike)).isPresent();
        }
        assertThat(((Acquired) p.tryAcquire(List.of(key), owner, null)).fencingTokens()).containsEntry(key, token);
        assertThat(p.extend(List.of(key), owner, Duration.ofMinutes(1))).isTrue();
        p.releaseAll(owner);
        assertThat(p.inspect(key)).isEmpty();
        assertThat(p.tryAcquire(List.of(key), owner, null)).isInstanceOf(Acquired.class);
        assertThat(p.release(List.of(key), owner)).isTrue();
    }

    private static String escape(String s) {
        StringBuilder out = new StringBuilder();
        s.chars().limit(40).forEach(c -> out.append(c < 0x20 || c > 0x7E ? String.format("\\u%04X", c) : (char) c));
        return out + (s.length() > 40 ? "...(" + s.length() + ")" : "");
    }
}
