package dev.locking.spi;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Parses provider option values the same way in every provider, so users learn one syntax.
 *
 * @since 0.1.0
 */
public final class OptionValues {
    private OptionValues() {}

    /**
     * Parses a positive duration: ISO-8601 ({@code PT5S}, {@code PT0.5S}), a whole number with a unit
     * ({@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}), or a plain whole number of milliseconds
     * ({@code 5000}). Case and surrounding blanks are ignored.
     *
     * @param option the option's name, for the message
     * @param value  the option's value
     * @return the duration, positive
     * @throws IllegalArgumentException if the value is not a duration or not positive; the message names
     *                                  the option and the value
     */
    public static Duration duration(String option, String value) {
        Duration parsed = parseOrNull(value.trim().toLowerCase(Locale.ROOT));
        if (parsed == null) {
            throw new IllegalArgumentException("option " + option + " is not a duration: \"" + value
                    + "\" (use 500ms, 5s, 2m, 1h, plain milliseconds such as 5000, or ISO-8601 such as PT5S)");
        }
        if (parsed.isNegative() || parsed.isZero()) {
            throw new IllegalArgumentException("option " + option + " must be positive: \"" + value + "\"");
        }
        return parsed;
    }

    /**
     * Returns the form under which option names are compared: lower case, without {@code -}, {@code _}
     * and {@code .}, so that {@code connectTimeout}, {@code connect-timeout} and {@code CONNECT_TIMEOUT}
     * (an environment variable's spelling) name the same option.
     *
     * @param optionName an option name
     * @return its canonical form
     */
    public static String canonicalName(String optionName) {
        StringBuilder sb = new StringBuilder(optionName.length());
        for (int i = 0; i < optionName.length(); i++) {
            char c = optionName.charAt(i);
            if (c != '-' && c != '_' && c != '.') {
                sb.append(Character.toLowerCase(c));
            }
        }
        return sb.toString();
    }

    private static @Nullable Duration parseOrNull(String text) {
        if (text.isEmpty()) {
            return null;
        }
        if (text.startsWith("p") || text.startsWith("-p") || text.startsWith("+p")) {
            try {
                return Duration.parse(text.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        int end = 0;
        while (end < text.length() && Character.isDigit(text.charAt(end))) {
            end++;
        }
        if (end == 0 || end > 18) {
            return null;
        }
        long amount = Long.parseLong(text.substring(0, end));
        String unit = text.substring(end).trim();
        return switch (unit) {
            case "", "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> amount > Long.MAX_VALUE / 60 ? null : Duration.ofMinutes(amount);
            case "h" -> amount > Long.MAX_VALUE / 3600 ? null : Duration.ofHours(amount);
            default -> null;
        };
    }
}
