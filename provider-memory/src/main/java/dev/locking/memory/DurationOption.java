package dev.locking.memory;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Reads a duration option: ISO-8601 ({@code PT5S}), plain milliseconds ({@code 5000}), or {@code 5s}/{@code 500ms}. */
final class DurationOption {

    private DurationOption() {}

    /**
     * Parses a positive duration.
     *
     * @param name  the option name, for the message
     * @param value the option value
     * @return the duration
     * @throws IllegalArgumentException if the value is not a duration or not positive; the message names
     *                                  the option
     */
    static Duration parse(String name, String value) {
        Duration parsed = parseOrNull(value.trim().toLowerCase(Locale.ROOT));
        if (parsed == null) {
            throw new IllegalArgumentException("Option " + name + " is not a duration: \"" + value
                    + "\" (use an ISO-8601 duration such as PT5S, milliseconds such as 5000, or 5s, 500ms, 2m, 1h)");
        }
        if (parsed.isNegative() || parsed.isZero()) {
            throw new IllegalArgumentException("Option " + name + " must be positive: \"" + value + "\"");
        }
        return parsed;
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
