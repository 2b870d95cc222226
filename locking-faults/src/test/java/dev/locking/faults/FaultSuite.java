package dev.locking.faults;

import dev.locking.faults.FaultReport.Figures;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.assertj.core.api.SoftAssertions;

/**
 * What every fault scenario shares: the timings, the children's loop, and the checks made at the end.
 *
 * <p>Timings: a lease of {@link #LEASE} (renewed every third of it by the core), jobs that hold the key for
 * {@link #HOLD} and write every 100 ms, {@code execute} timeouts of {@link #EXECUTE_TIMEOUT}. A fault that
 * must outlast a lease lasts {@link #PAST_LEASE}.
 *
 * <p>The checks, whatever the fault: no stale write accepted (a token handed to two writers that both got
 * past the resource), the tokens of the jobs strictly increasing per key (both as the resource first saw
 * them and in the order the jobs started), no two children's jobs overlapping unless one of them learnt its
 * lease was lost, and every child exiting within a hard bound once told to stop. Each scenario adds its own
 * (time to recover, time until a lost lease is noticed, no overlap at all).
 */
abstract class FaultSuite {
    static final Duration LEASE = Duration.ofSeconds(2);
    static final Duration HOLD = Duration.ofMillis(1500);
    static final Duration EXECUTE_TIMEOUT = Duration.ofSeconds(5);
    static final Duration PAST_LEASE = LEASE.plusMillis(1500);
    /** The issue's bound: another child holds the key at most this long after a holder died. */
    static final Duration RECOVERY_BOUND = LEASE.plusSeconds(1);
    /** The issue's bound for noticing a lost lease, after the last confirmed renewal. */
    static final Duration LOST_BOUND = LEASE.plusMillis(100);
    /**
     * Added to {@link #LOST_BOUND} when a lost lease is timed from the outside: the child's threads must be
     * scheduled, and its report travel through a pipe, on a 2-core machine that other builds share. Measured
     * figures are printed, so a regression that hides inside this allowance still shows.
     */
    static final Duration ALLOWANCE = Duration.ofMillis(500);
    /**
     * How soon a holder frozen past its lease must see its handle lost once it runs again (its lease ran out
     * while it was frozen, so at once): the whole JVM must first be scheduled again on a busy machine
     * (measured: 4 to 220 ms).
     */
    static final Duration WAKE_ALLOWANCE = Duration.ofSeconds(1);
    static final Duration STEP_BOUND = Duration.ofSeconds(45);
    /** Jobs of a frozen-backend scenario hold longer, so that the job still runs when its lease must turn lost. */
    static final Duration FROZEN_BACKEND_HOLD = Duration.ofSeconds(6);

    static LockLoopMain.Loop loop(String provider, String key, Duration hold) {
        return new LockLoopMain.Loop(provider, key, LEASE.toMillis(), hold.toMillis(), EXECUTE_TIMEOUT.toMillis());
    }

    static void startChildren(Scenario s, int count, Map<String, String> properties, LockLoopMain.Loop... loops) {
        for (int i = 0; i < count; i++) {
            s.startChild("child-" + i, properties, loops);
        }
    }

    /**
     * Ends a scenario: stops the children, fills in the figures every scenario has, adds the row to the
     * report, and only then checks (softly, so that one failure hides no other).
     */
    static void finish(Scenario s, Figures f, Consumer<SoftAssertions> scenarioChecks) throws InterruptedException {
        finish(s, f, true, scenarioChecks);
    }

    /**
     * As {@link #finish(Scenario, Figures, Consumer)}; {@code overlapsMustBeNoticed} false where the backend
     * lost the lock itself (a restart without data), so that no lock can tell its holder in time and only
     * fencing protects: the overlaps are then reported, not checked.
     */
    static void finish(Scenario s, Figures f, boolean overlapsMustBeNoticed, Consumer<SoftAssertions> scenarioChecks)
            throws InterruptedException {
        s.stopAll();
        s.dumpTimeline();
        FencedResource.Snapshot seen = s.resource.snapshot(s.key);
        List<Long> granted = s.grantedTokens(s.key);
        f.grants = s.grants();
        f.writesAccepted = seen.accepted();
        f.writesRefused = seen.refused();
        f.staleAccepted = seen.staleAccepted();
        f.resourceTokens = describe(seen.grantTokens());
        f.grantedTokens = describe(granted);
        List<Jobs.Overlap> overlaps = Jobs.overlaps(s.jobs());
        List<Jobs.Overlap> unnoticed = overlaps.stream().filter(Jobs.Overlap::undetected).toList();
        f.overlaps = overlaps.size() + " (" + unnoticed.size() + " unnoticed)";
        if (!overlaps.isEmpty()) {
            f.notes += "overlapping jobs: " + overlaps + ". ";
        }
        f.exits = s.exitedCleanly() + "/" + s.toldToStop() + " in <= " + s.slowestExitMillis() + " ms"
                + (s.hung().isEmpty() ? "" : ", HUNG: " + s.hung().size());
        FaultReport.add(f);
        System.out.println(s.name + ": timeline in " + s.dir.resolve("timeline.txt"));

        SoftAssertions softly = new SoftAssertions();
        softly.assertThat(seen.staleAccepted()).as("%s: stale writes accepted (a token two writers used)", s.name)
                .isZero();
        softly.assertThat(seen.firstNonIncreasing())
                .as("%s: tokens of the writers the resource accepted must strictly increase: %s", s.name,
                        seen.grants())
                .isEqualTo(-1);
        softly.assertThat(firstNonIncreasing(granted))
                .as("%s: tokens of the jobs, in the order they started, must strictly increase: %s", s.name, granted)
                .isEqualTo(-1);
        if (overlapsMustBeNoticed) {
            softly.assertThat(unnoticed).as("%s: jobs of two children that overlapped while neither learnt that its"
                    + " lease was lost", s.name).isEmpty();
        }
        softly.assertThat(s.hung()).as("%s: children that did not exit cleanly within %s when told", s.name,
                Scenario.EXIT_BOUND).isEmpty();
        softly.assertThat(f.grants).as("%s: jobs run", s.name).isPositive();
        scenarioChecks.accept(softly);
        softly.assertAll();
    }

    /**
     * The holder is frozen (SIGSTOP) well into its job for longer than its lease, then let go (SIGCONT).
     * Another child must take the key within {@link #RECOVERY_BOUND} of the freeze; the woken holder must
     * see its handle lost at once (its lease ran out while it was frozen), and its late writes are refused.
     * Its job overlaps the next holder's until it notices; no other two jobs may overlap.
     */
    static void holderPaused(Scenario s, Figures f) throws InterruptedException {
        Event holder = s.awaitHolder(s.key);
        ChildJvm victim = s.child(holder.child());
        long stopAt = s.timeline.fault("SIGSTOP " + victim.name() + " (holds token " + holder.token() + ")");
        Signals.stop(victim.pid());
        Scenario.holdFault(PAST_LEASE);
        long contAt = s.timeline.fault("SIGCONT " + victim.name());
        Signals.cont(victim.pid());
        boolean sawLost = s.awaitThat("the paused holder sees its handle lost", STEP_BOUND,
                () -> s.lost(victim.name(), s.key, holder.token()).isPresent());
        boolean goesOn = s.awaitThat("two more jobs after SIGCONT", STEP_BOUND, () -> s.grantsAfter(contAt) >= 2);
        boolean heldAtFault = heldAt(s, holder, stopAt);
        long recovery = s.firstGrantAfter(stopAt, victim.name()).map(e -> e.millis() - stopAt).orElse(-1L);
        long lostAfterCont = s.lost(victim.name(), s.key, holder.token()).map(e -> e.millis() - contAt).orElse(-1L);
        f.recovery = within(recovery, RECOVERY_BOUND) + " after SIGSTOP";
        f.lostNoticed = within(lostAfterCont, WAKE_ALLOWANCE) + " after SIGCONT (frozen " + PAST_LEASE.toMillis() + ")";
        f.notes += "the frozen holder's writes after SIGCONT: " + lateWrites(s, victim.name(), holder.token(), contAt)
                + "; its execute ended with " + endOf(s, victim.name(), s.key, contAt) + ". ";
        finish(s, f, softly -> {
            softly.assertThat(heldAtFault).as("%s: the victim still held the key when frozen", s.name).isTrue();
            softly.assertThat(recovery).as("%s: ms from SIGSTOP of the holder until another child held the key",
                    s.name).isBetween(0L, RECOVERY_BOUND.toMillis());
            softly.assertThat(sawLost).as("%s: the woken holder saw its handle lost", s.name).isTrue();
            softly.assertThat(lostAfterCont).as("%s: ms from SIGCONT until the woken holder saw its handle lost",
                    s.name).isBetween(0L, WAKE_ALLOWANCE.toMillis());
            softly.assertThat(goesOn).as("%s: jobs go on after the fault", s.name).isTrue();
            softly.assertThat(Jobs.overlaps(s.jobs()).stream().filter(o -> !o.involves(victim.name())).toList())
                    .as("%s: jobs of two children other than the frozen one overlapped (one lock, two takers)", s.name)
                    .isEmpty();
        });
    }

    /**
     * The holder is killed (SIGKILL) well into its job. Another child must take the key within
     * {@link #RECOVERY_BOUND}, and only one: no two jobs may overlap (the killed one's ends at the kill).
     */
    static void holderKilled(Scenario s, Figures f) throws InterruptedException {
        Event holder = s.awaitHolder(s.key);
        ChildJvm victim = s.child(holder.child());
        long killAt = s.timeline.fault("SIGKILL " + victim.name() + " (holds token " + holder.token() + ")");
        victim.kill();
        s.killedOnPurpose(victim.name(), killAt);
        boolean recovered = s.awaitThat("another child holds the key", STEP_BOUND,
                () -> s.firstGrantAfter(killAt, victim.name()).isPresent());
        boolean goesOn = s.awaitThat("three jobs after the kill", STEP_BOUND, () -> s.grantsAfter(killAt) >= 3);
        boolean heldAtFault = heldAt(s, holder, killAt);
        long recovery = s.firstGrantAfter(killAt, victim.name()).map(e -> e.millis() - killAt).orElse(-1L);
        f.recovery = within(recovery, RECOVERY_BOUND) + " after SIGKILL";
        finish(s, f, softly -> {
            softly.assertThat(heldAtFault).as("%s: the victim still held the key when killed", s.name).isTrue();
            softly.assertThat(recovered).as("%s: another child took the key", s.name).isTrue();
            softly.assertThat(recovery).as("%s: ms from SIGKILL of the holder until another child held the key",
                    s.name).isBetween(0L, RECOVERY_BOUND.toMillis());
            softly.assertThat(goesOn).as("%s: jobs go on after the fault", s.name).isTrue();
            softly.assertThat(Jobs.overlaps(s.jobs())).as("%s: jobs of two children overlapped (one lock, two"
                    + " takers)", s.name).isEmpty();
        });
    }

    /**
     * The backend is killed (SIGKILL) while a job runs, stays down for a second, and is started again on
     * the same port (and data directory). Jobs must go on; tokens must still increase; where the backend
     * keeps its data, no two jobs may overlap unnoticed.
     */
    static void backendRestarted(Scenario s, Figures f, Backend backend, boolean keepsData)
            throws InterruptedException {
        Event holder = s.awaitHolder(s.key, 3); // a few tokens first, so that a step back shows
        long killAt = s.timeline.fault("SIGKILL " + backend.name() + " (" + holder.child() + " holds token "
                + holder.token() + ")");
        backend.kill();
        // The server stays down for a moment, as a crashed server does: clients see refused connections.
        Scenario.holdFault(Duration.ofSeconds(1));
        long restartAt = s.timeline.fault("restart " + backend.name());
        backend.begin();
        long upAt = s.timeline.fault(backend.name() + " serves again");
        boolean goesOn = s.awaitThat("three jobs after the restart", STEP_BOUND, () -> s.grantsAfter(upAt) >= 3);
        // From the restart's start: a child may get the key before this test has seen the server answer.
        long firstAfter = s.timeline.matching(e -> e.is("GOT") && e.key().equals(s.key) && e.millis() > restartAt)
                .stream().findFirst().map(e -> e.millis() - restartAt).orElse(-1L);
        f.recovery = (firstAfter < 0 ? "not seen" : Long.toString(firstAfter)) + " after the restart began"
                + " (down " + (restartAt - killAt) + ", start took " + (upAt - restartAt) + ")";
        f.lostNoticed = s.timeline.count(e -> e.is("LOST") && e.millis() >= killAt) + " handles lost";
        List<Long> granted = s.grantedTokens(s.key);
        f.notes += "the holder at the kill: " + holder.child() + " with token " + holder.token() + "; tokens of the"
                + " jobs started after the restart: " + granted.subList(granted.size() - (int) s.grantsAfter(restartAt),
                        granted.size()) + "; " + s.timeline.count(e -> e.is("FAIL") && e.millis() >= killAt)
                + " calls failed meanwhile. ";
        finish(s, f, keepsData, softly -> softly.assertThat(goesOn).as("%s: jobs go on after the restart", s.name)
                .isTrue());
    }

    /**
     * The backend is frozen (SIGSTOP) for longer than the lease while a job runs, then let go. The holder
     * must see its handle lost by (last confirmed renewal + lease + 100 ms); the freeze is an upper bound
     * of its last confirmed renewal, so the check is lost - freeze &lt;= lease + 100 ms + {@link #ALLOWANCE}.
     * Jobs must go on after the thaw.
     */
    static void backendFrozen(Scenario s, Figures f, Backend backend) throws InterruptedException {
        Event holder = s.awaitHolder(s.key);
        long freezeAt = s.timeline.fault("SIGSTOP " + backend.name() + " (" + holder.child() + " holds token "
                + holder.token() + ")");
        backend.freeze();
        Scenario.holdFault(PAST_LEASE);
        long thawAt = s.timeline.fault("SIGCONT " + backend.name());
        backend.thaw();
        boolean sawLost = s.awaitThat("the holder sees its handle lost", STEP_BOUND,
                () -> s.lost(holder.child(), s.key, holder.token()).isPresent());
        boolean goesOn = s.awaitThat("three jobs after the thaw", STEP_BOUND, () -> s.grantsAfter(thawAt) >= 3);
        boolean heldAtFault = heldAt(s, holder, freezeAt);
        long lostAfter = s.lost(holder.child(), s.key, holder.token()).map(e -> e.millis() - freezeAt).orElse(-1L);
        // Any child, the old holder included: its frozen call has ended, a new one is a new job.
        long recovery = s.timeline.matching(e -> e.is("GOT") && e.key().equals(s.key) && e.millis() > thawAt)
                .stream().findFirst().map(e -> e.millis() - thawAt).orElse(-1L);
        Duration lostBound = LOST_BOUND.plus(ALLOWANCE);
        f.lostNoticed = within(lostAfter, lostBound) + " after SIGSTOP of the server (frozen " + PAST_LEASE.toMillis()
                + ")";
        f.recovery = "next job " + (recovery < 0 ? "not seen" : Long.toString(recovery)) + " after SIGCONT";
        f.notes += "the holder's writes after the thaw: " + lateWrites(s, holder.child(), holder.token(), thawAt)
                + "; its execute ended with " + endOf(s, holder.child(), s.key, freezeAt) + ". ";
        finish(s, f, softly -> {
            softly.assertThat(heldAtFault).as("%s: the holder still held the key at the freeze", s.name).isTrue();
            softly.assertThat(sawLost).as("%s: the holder saw its handle lost", s.name).isTrue();
            softly.assertThat(lostAfter).as("%s: ms from freezing the server until the holder saw its handle lost"
                    + " (lease + 100 + allowance)", s.name).isBetween(0L, lostBound.toMillis());
            softly.assertThat(goesOn).as("%s: jobs go on after the thaw", s.name).isTrue();
        });
    }

    /** Whether the job of {@code got} had not ended (by its own report) at {@code millis}. */
    static boolean heldAt(Scenario s, Event got, long millis) {
        return s.timeline.count(e -> e.child().equals(got.child()) && e.key().equals(got.key())
                && e.token() == got.token() && (e.is("END") || e.is("DONE") || e.is("LOST") || e.is("FAIL"))
                && e.millis() <= millis) == 0;
    }

    /** How the child's first call on the key to end after {@code after} ended: DONE, or the exception. */
    static String endOf(Scenario s, String child, String key, long after) {
        return s.timeline.matching(e -> e.child().equals(child) && e.key().equals(key) && e.millis() >= after
                && (e.is("DONE") || e.is("FAIL"))).stream().findFirst()
                .map(e -> e.is("DONE") ? "a normal return" : e.rest()).orElse("nothing reported");
    }

    /** "2 refused, 0 accepted" for the child's writes with that token after the given time. */
    static String lateWrites(Scenario s, String child, long token, long after) {
        List<Event> late = s.timeline.matching(e -> e.is("WRITE") && e.child().equals(child) && e.token() == token
                && e.millis() >= after);
        long refused = late.stream().filter(e -> e.rest().equals("STALE")).count();
        return refused + " refused, " + (late.size() - refused) + " accepted";
    }

    static int firstNonIncreasing(List<Long> tokens) {
        for (int i = 1; i < tokens.size(); i++) {
            if (tokens.get(i) <= tokens.get(i - 1)) {
                return i;
            }
        }
        return -1;
    }

    /** "12 increasing, 3..27" or where it goes back. */
    static String describe(List<Long> tokens) {
        if (tokens.isEmpty()) {
            return "none";
        }
        int bad = firstNonIncreasing(tokens);
        if (bad < 0) {
            return tokens.size() + " increasing, " + tokens.get(0) + ".." + tokens.get(tokens.size() - 1);
        }
        int from = Math.max(0, bad - 3);
        int to = Math.min(tokens.size(), bad + 4);
        return tokens.size() + ", **back at #" + bad + ": " + tokens.get(bad - 1) + " -> " + tokens.get(bad)
                + "** (" + (from > 0 ? "…" : "") + tokens.subList(from, to) + (to < tokens.size() ? "…" : "") + ")";
    }

    /** "1234 (<= 3000)" */
    static String within(long measured, Duration bound) {
        return measured < 0 ? "not seen (<= " + bound.toMillis() + ")" : measured + " (<= " + bound.toMillis() + ")";
    }
}
