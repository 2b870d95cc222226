package dev.locking.hazelcast;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses duration options: ISO-8601 ({@code PT5S}), milliseconds ({@code 5000}), or {@code 5s}, {@code 500ms}, {@code 2m}. */
final class DurationOption {

    private static final Pattern SHORT_FORM = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h)?");

    private DurationOption() {}

    /**
     * Parses a positive duration.
     *
     * @param option the option name, for the message
     * @param value  the text
     * @return the duration
     * @throws IllegalArgumentException naming the option if the text is no positive duration
     */
    static Duration parse(String option, String value) {
        String text = value.trim().toLowerCase(Locale.ROOT);
        Duration duration;
        Matcher matcher = SHORT_FORM.matcher(text);
        if (matcher.matches()) {
            long amount = Long.parseLong(matcher.group(1));
            String unit = matcher.group(2);
            if (unit == null || unit.equals("ms")) {
                duration = Duration.ofMillis(amount);
            } else if (unit.equals("s")) {
                duration = Duration.ofSeconds(amount);
            } else if (unit.equals("m")) {
                duration = Duration.ofMinutes(amount);
            } else {
                duration = Duration.ofHours(amount);
            }
        } else {
            try {
                duration = Duration.parse(text.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("Option " + option + " is not a duration: \"" + value
                        + "\" (use PT5S, 5000 for milliseconds, 5s or 500ms)", e);
            }
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("Option " + option + " must be positive: \"" + value + "\"");
        }
        return duration;
    }
}
