package dev.locking.tck;

import dev.locking.spi.LockingProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the whole kit, including the groups for distributed providers (two clients, several JVMs, backend
 * down, foreign data), against {@link FileLockingProvider}: its clients share locks through a directory, across JVMs too.
 */
class FileProviderConformanceTest extends LockingProviderConformance {

    @TempDir
    static Path shared;

    private Path locks() {
        return shared.resolve("locks");
    }

    @Override
    protected LockingProvider newProvider(String id) {
        return new FileLockingProvider(id, locks());
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        return new FileLockingProvider(id, locks());
    }

    @Override
    protected LockingProvider newUnreachableProvider(String id) {
        try {
            Path notADirectory = Files.writeString(shared.resolve("plain-file"), "");
            return new FileLockingProvider(id, notADirectory.resolve("locks"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Foreign data in the shared state file: an entry at the key that is not shaped like a lock. */
    @Override
    protected boolean plantForeignData(String key) {
        new FileLockingProvider(PROVIDER_ID, locks()).plantForeignData(key);
        return true;
    }

    @Override
    protected Map<String, String> childJvmProperties() {
        return Map.of(
                "locking.default", PROVIDER_ID,
                "locking.providers.tck.type", "file",
                "locking.providers.tck.directory", locks().toString());
    }
}
