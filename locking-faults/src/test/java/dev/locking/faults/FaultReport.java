package dev.locking.faults;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The suite's summary: one row per scenario, printed to standard output as the scenario ends and kept in
 * {@code target/fault-report.md} (rewritten after every row, so a failed or interrupted run still leaves
 * what it measured).
 *
 * <p>Concurrency: scenarios may end on several threads; the rows are guarded by the class's monitor, which
 * {@link #add} holds while it appends a row and rewrites the file.
 */
final class FaultReport {
    @GuardedBy("FaultReport.class")
    private static final List<Figures> ROWS = new ArrayList<>();
    private static final Path FILE = Path.of(System.getProperty("faults.reportFile", "target/fault-report.md"));

    private FaultReport() {}

    /** What one scenario measured; every time is in milliseconds. */
    static final class Figures {
        final String scenario;
        long grants;
        int writesAccepted;
        int writesRefused;
        int staleAccepted;
        String resourceTokens = "";
        String grantedTokens = "";
        String recovery = "-";
        String lostNoticed = "-";
        String overlaps = "";
        String exits = "";
        String notes = "";

        Figures(String scenario) {
            this.scenario = scenario;
        }
    }

    static synchronized void add(Figures f) {
        ROWS.add(f);
        String row = row(f);
        System.out.println(header());
        System.out.println(row);
        try {
            Files.createDirectories(FILE.toAbsolutePath().getParent());
            StringBuilder text = new StringBuilder("# Fault suite report\n\n")
                    .append("Each scenario: child JVMs loop `execute` on one key with a lease of ")
                    .append(FaultSuite.LEASE.toMillis()).append(" ms; each job writes every 100 ms for ")
                    .append(FaultSuite.HOLD.toMillis()).append(" ms (")
                    .append(FaultSuite.FROZEN_BACKEND_HOLD.toMillis()).append(" ms where the backend is frozen)")
                    .append(" to a resource that refuses a token lower than the highest it accepted. Times in ms,")
                    .append(" by the wall clock every process shares. Bounds: recovery <= lease + 1000 after a")
                    .append(" holder is frozen or killed; a frozen holder sees its handle lost <= ")
                    .append(FaultSuite.WAKE_ALLOWANCE.toMillis()).append(" after SIGCONT; with a frozen backend the")
                    .append(" holder sees it lost <= lease + 100 + ").append(FaultSuite.ALLOWANCE.toMillis())
                    .append(" (allowance for a busy machine) after the freeze, an upper bound of its last")
                    .append(" confirmed renewal. Overlapping jobs: two children's jobs on the key at once;")
                    .append(" unnoticed: neither learnt its lease was lost.\n\n")
                    .append(header()).append('\n');
            for (Figures r : ROWS) {
                text.append(row(r)).append('\n');
            }
            text.append("\nNotes:\n\n");
            for (Figures r : ROWS) {
                if (!r.notes.isEmpty()) {
                    text.append("- **").append(r.scenario).append("**: ").append(r.notes).append('\n');
                }
            }
            Files.writeString(FILE, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String header() {
        return "| scenario | grants | writes accepted | refused (stale) | stale accepted | tokens at the resource"
                + " | tokens granted (by start time) | overlapping jobs | recovery | lost noticed | exits when told |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|";
    }

    private static String row(Figures f) {
        return "| " + f.scenario + " | " + f.grants + " | " + f.writesAccepted + " | " + f.writesRefused + " | "
                + f.staleAccepted + " | " + f.resourceTokens + " | " + f.grantedTokens + " | " + f.overlaps + " | " + f.recovery + " | "
                + f.lostNoticed + " | " + f.exits + " |";
    }
}
