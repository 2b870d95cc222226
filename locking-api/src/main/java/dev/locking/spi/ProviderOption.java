package dev.locking.spi;

import java.util.Locale;

/**
 * One option a provider reads, as its factory declares it in {@link LockingProviderFactory#options()}.
 *
 * <p>With the declaration the core does for every provider what each would otherwise do its own way:
 * it warns once, in one wording, about an option the provider does not know (a misspelling), and it checks
 * the value's format before the factory runs. A value of the wrong format makes the provider's id answer
 * every call with {@link dev.locking.api.ProviderUnavailableException} naming the option, the value and
 * what was expected, logged once at WARN; the factory is not called then. Blank values are not checked
 * (the provider decides what a blank value means). The factory still checks what only it knows (ranges,
 * combinations, files) and throws {@link IllegalArgumentException} naming the option, with the same
 * result.
 *
 * <pre>{@code
 * @Override
 * public Optional<List<ProviderOption>> options() {
 *     return Optional.of(List.of(
 *             ProviderOption.string("address"),
 *             ProviderOption.duration("timeout"),
 *             ProviderOption.integer("poolSize"),
 *             ProviderOption.bool("createTable")));
 * }
 * }</pre>
 *
 * @param name the option's name as documented, such as {@code connectTimeout}; matched ignoring case,
 *             {@code -}, {@code _} and {@code .} (see {@link OptionValues#canonicalName(String)})
 * @param kind the format of its value
 * @since 0.2.0
 */
public record ProviderOption(String name, Kind kind) {

    /** The format of an option's value, checked by {@link #check(String)}. */
    public enum Kind {
        /** Any text. */
        STRING,
        /** A positive duration, as {@link OptionValues#duration(String, String)} parses it. */
        DURATION,
        /** A whole number that fits an {@code int}. */
        INTEGER,
        /** {@code true} or {@code false}, in any case. */
        BOOLEAN
    }

    /**
     * Validates the declaration.
     *
     * @param name the option's name
     * @param kind what its value is
     * @throws IllegalArgumentException if the name is blank or {@code type}, or the kind is null
     */
    public ProviderOption {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("option name must not be null or blank");
        }
        if (OptionValues.canonicalName(name).equals("type")) {
            throw new IllegalArgumentException("\"type\" is not a provider option: it selects the provider type");
        }
        if (kind == null) {
            throw new IllegalArgumentException("kind of option " + name + " must not be null");
        }
    }

    /**
     * Declares a text option.
     *
     * @param name the option's name
     * @return the declaration
     */
    public static ProviderOption string(String name) {
        return new ProviderOption(name, Kind.STRING);
    }

    /**
     * Declares a positive duration option.
     *
     * @param name the option's name
     * @return the declaration
     */
    public static ProviderOption duration(String name) {
        return new ProviderOption(name, Kind.DURATION);
    }

    /**
     * Declares a whole-number option.
     *
     * @param name the option's name
     * @return the declaration
     */
    public static ProviderOption integer(String name) {
        return new ProviderOption(name, Kind.INTEGER);
    }

    /**
     * Declares a {@code true}/{@code false} option.
     *
     * @param name the option's name
     * @return the declaration
     */
    public static ProviderOption bool(String name) {
        return new ProviderOption(name, Kind.BOOLEAN);
    }

    /**
     * Checks a value's format against this option's kind. Never fails for {@link Kind#STRING} (so the
     * value, which may be a password, never appears in a message).
     *
     * @param value the value as configured
     * @throws IllegalArgumentException naming the option, the value and the expected format
     */
    public void check(String value) {
        String trimmed = value.trim();
        switch (kind) {
            case STRING -> { }
            case DURATION -> OptionValues.duration(name, trimmed);
            case INTEGER -> {
                try {
                    Integer.parseInt(trimmed);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("option " + name + " must be a whole number: \"" + value
                            + "\"", e);
                }
            }
            case BOOLEAN -> {
                String lower = trimmed.toLowerCase(Locale.ROOT);
                if (!lower.equals("true") && !lower.equals("false")) {
                    throw new IllegalArgumentException("option " + name + " must be true or false: \"" + value
                            + "\"");
                }
            }
        }
    }
}
