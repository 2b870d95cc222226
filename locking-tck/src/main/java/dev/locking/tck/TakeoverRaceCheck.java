package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Two clients racing to take over one lapsed lock, round after round: each round locks a fresh key with a
 * tiny lease that is never renewed, lets it lapse, then has both clients call {@code tryAcquire} on it at
 * the same moment. At most one may win, and the winner's token must be above the lapsed lock's.
 *
 * <p>A takeover is where distributed locks go wrong most easily: the taker judges the old lock lapsed and
 * replaces it, and unless that replacement is conditional on the very lock it judged, a second taker that
 * judged the same old lock can replace the first taker's fresh one (an ABA race).
 *
 * <p>When the lock has not lapsed yet as the backend sees it (its clock, rounding), both calls fail; the
 * round then races again a moment later, so that every round ends with a takeover.
 *
 * <p>Concurrency: the test's thread runs the rounds and hands the two racing calls to the pool; they share
 * only a barrier that starts them together, and report through their futures.
 */
final class TakeoverRaceCheck {
    private final LockingProvider first;
    private final LockingProvider second;
    private final ExecutorService pool;
    private final Duration patience;

    TakeoverRaceCheck(LockingProvider first, LockingProvider second, ExecutorService pool, Duration patience) {
        this.first = first;
        this.second = second;
        this.pool = pool;
        this.patience = patience;
    }

    /**
     * Runs the rounds and fails at the first double grant.
     *
     * @param keyPrefix a prefix no other test uses
     * @param rounds    how many lapsed locks to race for
     * @param lease     the lapsing lock's lease (tiny, so that the rounds are quick)
     * @return how many races it took in all (at least {@code rounds})
     */
    int run(String keyPrefix, int rounds, Duration lease) throws InterruptedException {
        int races = 0;
        for (int round = 0; round < rounds; round++) {
            races += round(keyPrefix + "race-" + round, round, lease);
        }
        return races;
    }

    private int round(String key, int round, Duration lease) throws InterruptedException {
        LockingProvider holder = round % 2 == 0 ? first : second; // the lapsed lock comes from either side
        AcquireResult taken = holder.tryAcquire(List.of(key), "lapsing-" + round, lease);
        long lapsedToken = tokenOf(taken, key, "the round's first lock");
        long takenAt = System.nanoTime();
        // Time passing is the point here, not a condition: the lease only lapses by the clock.
        LockSupport.parkNanos(lease.toNanos() + TimeUnit.MILLISECONDS.toNanos(2) - (System.nanoTime() - takenAt));

        long deadline = System.nanoTime() + patience.toNanos();
        for (int race = 1; ; race++) {
            String ownerA = "taker-a-" + round + "-" + race;
            String ownerB = "taker-b-" + round + "-" + race;
            CyclicBarrier start = new CyclicBarrier(2);
            Future<AcquireResult> a = pool.submit(() -> takeTogether(start, first, key, ownerA));
            Future<AcquireResult> b = pool.submit(() -> takeTogether(start, second, key, ownerB));
            AcquireResult ra = outcome(a, "client A");
            AcquireResult rb = outcome(b, "client B");
            boolean aWon = ra instanceof AcquireResult.Acquired;
            boolean bWon = rb instanceof AcquireResult.Acquired;
            if (aWon && bWon) {
                fail("round %d, race %d: both clients took over the lapsed lock on %s (token %d): A got %s, B got %s",
                        round, race, key, lapsedToken, ra, rb);
            }
            if (aWon || bWon) {
                String winner = aWon ? ownerA : ownerB;
                long token = tokenOf(aWon ? ra : rb, key, "the winner's lock");
                assertThat(token).as("round %d: the winner's token, against the lapsed lock's", round)
                        .isGreaterThan(lapsedToken);
                LockingProvider loserClient = aWon ? second : first;
                Optional<LockInfo> seen = loserClient.inspect(key);
                assertThat(seen).as("round %d: the lock as the losing client sees it", round).isPresent();
                assertThat(seen.get().ownerId()).isEqualTo(winner);
                assertThat(seen.get().fencingToken()).isEqualTo(token);
                assertThat((aWon ? first : second).release(List.of(key), winner)).isTrue();
                return race;
            }
            if (System.nanoTime() - deadline > 0) {
                fail("round %d: neither client could take over the lock on %s within %s of its lease of %s lapsing",
                        round, key, patience, lease);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // the backend's clock may be a little behind
        }
    }

    private AcquireResult takeTogether(CyclicBarrier start, LockingProvider client, String key, String owner)
            throws Exception {
        start.await(patience.toMillis(), TimeUnit.MILLISECONDS);
        return client.tryAcquire(List.of(key), owner, Duration.ofSeconds(30));
    }

    private AcquireResult outcome(Future<AcquireResult> future, String who) throws InterruptedException {
        try {
            return future.get(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError(who + "'s tryAcquire failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError(who + "'s tryAcquire did not return within " + patience, e);
        }
    }

    private static long tokenOf(AcquireResult result, String key, String what) {
        assertThat(result).as(what).isInstanceOf(AcquireResult.Acquired.class);
        Long token = ((AcquireResult.Acquired) result).fencingTokens().get(key);
        assertThat(token).as("fencing token of %s in %s", key, result).isNotNull();
        return token;
    }
}
