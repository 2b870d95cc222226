package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The constants {@link LuaScript#forLayout} writes into script text, read back by a real Redis. */
class LuaScriptTest {
    @RegisterExtension
    static final RedisServer REDIS = RedisServer.shared();

    @Test
    void luaString_givesRedisBackTheSameBytes() {
        try (RespClient admin = REDIS.admin()) {
            for (String s : List.of("locking:released", "q\"'\\\n7é:released", "\u0001" + "2", "]]", "")) {
                String literal = LuaScript.luaString(s);

                assertThat(admin.call("EVAL", "return " + literal, "0")).isEqualTo(s);
            }
        }
    }

    @Test
    void forLayout_writesTheChannelAndPrefixLengthIn_andEachPrefixHasItsOwnScript() {
        LuaScript plain = LuaScript.forLayout("release", new KeyLayout("locking:"));
        LuaScript other = LuaScript.forLayout("release", new KeyLayout("é:"));

        assertThat(plain.source()).doesNotContain("$CHANNEL", "$PREFIX_BYTES")
                .contains("\"locking:released\"", "string.sub(KEYS[i], 8 + 1)");
        assertThat(other.source()).contains("\"\\195\\169:released\"", "string.sub(KEYS[i], 3 + 1)");
        assertThat(other.sha()).isNotEqualTo(plain.sha());
    }
}
