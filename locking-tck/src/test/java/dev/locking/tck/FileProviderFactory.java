package dev.locking.tck;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.ProviderConfig;
import java.nio.file.Paths;

/** Creates {@link FileLockingProvider}s (type {@code file}, option {@code directory}) for child JVMs. */
public final class FileProviderFactory implements LockingProviderFactory {

    /** Creates the factory; ServiceLoader needs a public no-argument constructor. */
    public FileProviderFactory() {}

    @Override
    public String type() {
        return "file";
    }

    @Override
    public LockingProvider create(ProviderConfig config) {
        return new FileLockingProvider(config.id(), config.option("directory").map(Paths::get).orElse(null));
    }
}
