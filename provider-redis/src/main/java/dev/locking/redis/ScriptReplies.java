package dev.locking.redis;

import java.util.List;

/**
 * Reading the replies of the lock scripts as Redisson decodes them: an array reply is a {@code List} of
 * {@code Long}s, {@code String}s and {@code null}s, an integer reply a {@code Long}. A reply of another shape
 * means the script and this code disagree, which is a bug, so it fails with {@link IllegalStateException}.
 */
final class ScriptReplies {
    private ScriptReplies() {
    }

    /** An array reply. */
    @SuppressWarnings("unchecked") // a script's array reply: Redisson decodes it into a List of Objects
    static List<Object> list(Object answer) {
        if (answer instanceof List<?>) {
            return (List<Object>) answer;
        }
        throw new IllegalStateException("unexpected reply from a lock script: " + answer);
    }

    /** The integer at {@code index} of an array reply. */
    static long number(List<Object> reply, int index) {
        Object value = reply.get(index);
        if (value instanceof Number number) {
            return number.longValue();
        }
        throw new IllegalStateException("unexpected reply from a lock script: " + reply);
    }

    /** The position (0-based) in the call's keys named by a script's 1-based position at {@code index}. */
    static int position(List<Object> reply, int index) {
        return (int) number(reply, index) - 1;
    }
}
