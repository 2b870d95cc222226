package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The overlap detection of the child JVMs, exercised with threads of this JVM. */
class ContentionWorkerTest {

    @TempDir
    Path dir;

    @Test
    void criticalSection_inTurn_countsExactly_withoutOverlap() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(ContentionWorker.criticalSection(dir, () -> {})).isFalse();
        }
        assertThat(Files.readString(dir.resolve(ContentionWorker.COUNTER), StandardCharsets.UTF_8)).isEqualTo("5");
        assertThat(dir.resolve(ContentionWorker.HOLDER)).doesNotExist();
    }

    @Test
    void criticalSection_enteredTwiceAtOnce_reportsAnOverlap() throws Exception {
        CountDownLatch firstInside = new CountDownLatch(1);
        CountDownLatch secondDone = new CountDownLatch(1);
        CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> {
            try {
                return ContentionWorker.criticalSection(dir, () -> {
                    firstInside.countDown();
                    try {
                        assertThat(secondDone.await(30, TimeUnit.SECONDS)).isTrue();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                });
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(firstInside.await(30, TimeUnit.SECONDS)).isTrue();

        boolean secondOverlapped = ContentionWorker.criticalSection(dir, () -> {});
        secondDone.countDown();

        assertThat(secondOverlapped).isTrue();
        assertThat(first.get(30, TimeUnit.SECONDS)).isFalse();
        // Both read 0: the lost update an overlap causes.
        assertThat(Files.readString(dir.resolve(ContentionWorker.COUNTER), StandardCharsets.UTF_8)).isEqualTo("1");
    }

    @Test
    void badArguments_giveTheUsageExitCode() throws Exception {
        assertThat(ContentionWorker.run(new String[] {"nonsense"})).isEqualTo(ContentionWorker.EXIT_USAGE);
    }
}
