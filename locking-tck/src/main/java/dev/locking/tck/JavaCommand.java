package dev.locking.tck;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The command line that runs a main class in a new JVM with the calling JVM's {@code java} binary and classpath
 * (under Surefire, {@code surefire.test.class.path}; otherwise {@code java.class.path}), as
 * {@link MultiJvmContention} and other tests that start child JVMs need it:
 *
 * <pre>{@code
 * List<String> command = JavaCommand.of(dir, "child-0", List.of("-Xmx256m"),
 *         Map.of("locking.default", "lp_redis"), ContentionWorker.class, List.of("contend"));
 * Process child = new ProcessBuilder(command).start();
 * }</pre>
 *
 * <p>The classpath goes through an argument file in {@code dir}, because it can be longer than a command line
 * may be. Children log at WARN through {@code slf4j-simple} (when it is on the classpath) unless a property
 * says otherwise. System properties appear on the command line, where other local users can read them.
 *
 * @since 0.1.0
 */
public final class JavaCommand {

    private JavaCommand() {}

    /**
     * Returns the command that runs {@code mainClass} in a new JVM, and writes its argument file.
     *
     * @param dir        where the argument file {@code <name>.args} goes; it must exist
     * @param name       the child's name, for the argument file
     * @param jvmOptions options before the classpath, such as {@code -Xmx256m}
     * @param properties system properties for the child, in the order given
     * @param mainClass  the class whose {@code main} the child runs
     * @param args       the arguments of {@code main}
     * @return the command, the {@code java} binary first
     * @throws IOException if the argument file cannot be written
     */
    public static List<String> of(Path dir, String name, List<String> jvmOptions, Map<String, String> properties,
            Class<?> mainClass, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(jvmOptions);
        Path argFile = dir.resolve(name + ".args");
        Files.writeString(argFile, "-cp\n\"" + escape(classPath()) + "\"\n", StandardCharsets.UTF_8);
        command.add("@" + argFile);
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add(mainClass.getName());
        command.addAll(args);
        return command;
    }

    /**
     * Returns the end of a child's log file, for a failure message.
     *
     * @param file     the log file; a missing one gives the empty string
     * @param maxChars how many characters at most, counted from the end
     * @return the last {@code maxChars} characters, after an ellipsis if the file is longer
     */
    public static String tail(Path file, int maxChars) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            String text = Files.readString(file, StandardCharsets.UTF_8);
            return text.length() <= maxChars ? text : "…" + text.substring(text.length() - maxChars);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String javaBinary() {
        Optional<String> current = ProcessHandle.current().info().command();
        if (current.isPresent() && Files.isExecutable(Paths.get(current.get()))) {
            return current.get();
        }
        return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path", "");
    }

    private static String escape(String path) {
        return path.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
