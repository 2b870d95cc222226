package dev.locking.spi.support.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A provider's DDL kept as a script next to its classes, with placeholders for the names the options choose:
 * read it, fill the placeholders in, and split it into the statements to send one by one (JDBC sends one
 * statement at a time, and a function body holds semicolons, so statements are split at a separator line of the
 * provider's choosing, such as {@code --//}).
 *
 * <pre>{@code
 * List<String> ddl = SqlScript.statements(SqlScript.resource(Schema.class, "schema.sql"),
 *         Pattern.compile("\\{(T|fn:\\w+)}"), p -> p.equals("T") ? table : table + "_" + p.substring(3), "--//");
 * }</pre>
 *
 * <p>Concurrency: stateless.
 *
 * @since 0.2.0
 */
public final class SqlScript {

    private SqlScript() {}

    /**
     * A resource's text.
     *
     * @param anchor the class the resource's name is relative to
     * @param name   the resource's name, such as {@code schema.sql}
     * @return its text, read as UTF-8
     * @throws IllegalStateException if there is no such resource
     * @throws UncheckedIOException  if it cannot be read
     */
    public static String resource(Class<?> anchor, String name) {
        try (InputStream in = anchor.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing next to " + anchor.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Fills the placeholders in and splits the text into statements.
     *
     * @param text        the script
     * @param placeholder matches a placeholder; its group 1 is handed to {@code value}
     * @param value       the text that replaces a placeholder, inserted as it is
     * @param separator   the line between two statements (without its line breaks)
     * @return the statements, stripped, without empty ones, in order
     */
    public static List<String> statements(String text, Pattern placeholder, Function<String, String> value,
            String separator) {
        Matcher m = placeholder.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(value.apply(m.group(1))));
        }
        m.appendTail(out);
        List<String> statements = new ArrayList<>();
        for (String part : out.toString().replace("\r\n", "\n").split("\n" + Pattern.quote(separator) + "\n", -1)) {
            String statement = part.strip();
            if (!statement.isEmpty()) {
                statements.add(statement);
            }
        }
        return List.copyOf(statements);
    }
}
