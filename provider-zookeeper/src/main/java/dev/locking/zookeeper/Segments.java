package dev.locking.zookeeper;

/**
 * Turns a lock key or an owner id into one ZooKeeper path segment.
 *
 * <p>The encoding is percent-encoding of the string's UTF-8 bytes in which only ASCII letters, digits,
 * {@code -} and {@code _} stand for themselves; every other byte, {@code .}, {@code /} and {@code %}
 * included, becomes {@code %XX} (upper-case hex). So:
 * <ul>
 *   <li>a segment never contains {@code /}, so no key can reach outside its parent node;</li>
 *   <li>a segment is never {@code .} or {@code ..} and never holds a character ZooKeeper rejects
 *       (controls, U+FFF0 and above, surrogates), because all of those are escaped;</li>
 *   <li>two different strings never give the same segment: the mapping is injective, since {@code %}
 *       itself is escaped and a lone surrogate (which UTF-8 cannot express) is written as its generalised
 *       three-byte form, which no proper code point produces;</li>
 *   <li>plain keys stay readable ({@code order-17} is {@code order-17}) when you look with {@code zkCli}.</li>
 * </ul>
 * A key of 1024 characters gives at most 9216 characters, far below ZooKeeper's request size limit.
 */
final class Segments {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Segments() {}

    /**
     * Encodes a string into one path segment.
     *
     * @param s a non-empty string
     * @return the segment, never empty, never containing {@code /}
     */
    static String encode(String s) {
        StringBuilder out = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < 0x80) {
                if (isPlain(cp)) {
                    out.append((char) cp);
                } else {
                    escape(out, cp);
                }
            } else if (cp < 0x800) {
                escape(out, 0xC0 | (cp >> 6));
                escape(out, 0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                // Lone surrogates land here too: their generalised UTF-8 form never comes from a real code point.
                escape(out, 0xE0 | (cp >> 12));
                escape(out, 0x80 | ((cp >> 6) & 0x3F));
                escape(out, 0x80 | (cp & 0x3F));
            } else {
                escape(out, 0xF0 | (cp >> 18));
                escape(out, 0x80 | ((cp >> 12) & 0x3F));
                escape(out, 0x80 | ((cp >> 6) & 0x3F));
                escape(out, 0x80 | (cp & 0x3F));
            }
        }
        return out.toString();
    }

    private static boolean isPlain(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }

    private static void escape(StringBuilder out, int b) {
        out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
    }
}
