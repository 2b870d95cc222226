package dev.locking.spi.support.jdbc;

import java.util.regex.Pattern;

/**
 * What a provider may show of a JDBC URL and of the names it builds statements from.
 *
 * <p>Concurrency: stateless.
 *
 * @since 0.2.0
 */
public final class SqlNames {

    private SqlNames() {}

    /**
     * The server a JDBC URL names, for messages: host, port and database, without user info, parameters or the
     * driver's name, which may carry credentials. {@code jdbc:postgresql://u:pw@db:5432/app?ssl=true},
     * {@code jdbc:mysql://db:3306/app}, {@code jdbc:oracle:thin:scott/tiger@//db:1521/app} and
     * {@code jdbc:sqlserver://db:1433;databaseName=app;password=pw} give {@code db:5432/app},
     * {@code db:3306/app}, {@code db:1521/app} and {@code db:1433}.
     *
     * @param url a JDBC URL
     * @return what messages may show of it
     */
    public static String describeUrl(String url) {
        String rest = url.strip();
        rest = rest.regionMatches(true, 0, "jdbc:", 0, 5) ? rest.substring(5) : rest;
        rest = cut(cut(rest, '?'), ';');
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            rest = rest.substring(at + 1);
        } else {
            int slashes = rest.indexOf("//");
            rest = slashes >= 0 ? rest.substring(slashes) : rest.substring(rest.lastIndexOf(':') + 1);
        }
        return rest.startsWith("//") ? rest.substring(2) : rest;
    }

    /**
     * Checks a name a provider puts into statements unquoted or between plain quotes (a schema, a table): letters,
     * digits and {@code _}, not starting with a digit, so that it never needs escaping.
     *
     * @param option    the option that gave it, for the message
     * @param value     the name
     * @param maxLength the longest name allowed (the database's limit, less what the provider appends)
     * @return the name
     * @throws IllegalArgumentException naming the option, if the name is not such a plain identifier
     */
    public static String plainIdentifier(String option, String value, int maxLength) {
        if (maxLength < 1 || !Pattern.matches("[A-Za-z_][A-Za-z0-9_]{0," + (maxLength - 1) + "}", value)) {
            throw new IllegalArgumentException("option " + option + " must be a plain identifier (letters, digits and"
                    + " _, not starting with a digit, at most " + maxLength + " characters), got \"" + value + "\"");
        }
        return value;
    }

    private static String cut(String s, char at) {
        int i = s.indexOf(at);
        return i >= 0 ? s.substring(0, i) : s;
    }
}
