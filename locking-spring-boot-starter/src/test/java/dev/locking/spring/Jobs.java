package dev.locking.spring;

import dev.locking.api.LockHandle;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/** A bean with {@link Locked} methods, each showing one rule; counters say whether a body ran. */
public class Jobs {
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final AtomicInteger bodies = new AtomicInteger();
    /** Not thread-safe on purpose: only the lock keeps its increments exact. */
    private int counter;

    // Read through methods: a test holds the proxy, whose own fields are not the target's.
    public int counter() {
        return counter;
    }

    public int overlaps() {
        return overlaps.get();
    }

    public int bodies() {
        return bodies.get();
    }

    @Locked("'counter:' + #name")
    public void increment(String name) {
        if (inside.incrementAndGet() > 1) {
            overlaps.incrementAndGet();
        }
        int read = counter;
        LockSupport.parkNanos(10_000); // widens the window in which an unlocked increment would be lost
        counter = read + 1;
        inside.decrementAndGet();
    }

    @Locked(keys = "'order:' + #orderId", expire = "20s")
    public LockHandle handle(long orderId) {
        bodies.incrementAndGet();
        return LockedContext.current();
    }

    @Locked("#ids")
    public List<String> many(List<String> ids) {
        return LockedContext.current().keys();
    }

    @Locked(value = "'job:' + #name", provider = "${jobs.provider:}", timeout = "${jobs.timeout:5s}")
    public String providerOf(String name) {
        return LockedContext.current().providerId();
    }

    @Locked("#root.method.name + ':' + #p0 + ':' + @jobs.getClass().getSimpleName().length()")
    public List<String> rootIndexAndBean(String name) {
        return LockedContext.current().keys();
    }

    @Locked("'order:' + #ordId")
    public void typo(long orderId) {
        bodies.incrementAndGet();
    }

    @Locked("nightly")
    public void unquoted() {
        bodies.incrementAndGet();
    }

    @Locked("#name")
    public void byName(String name) {
        bodies.incrementAndGet();
    }

    @Locked("'order:' + (")
    public void unparsable() {
        bodies.incrementAndGet();
    }

    @Locked(value = "'late'", timeout = "soon")
    public void badTimeout() {
        bodies.incrementAndGet();
    }

    @Locked(value = "'report:hourly'", onBusy = OnBusy.SKIP)
    public String report() {
        bodies.incrementAndGet();
        return "done";
    }

    @Locked(value = "'report:hourly'", onBusy = OnBusy.SKIP)
    public Optional<String> optionalReport() {
        bodies.incrementAndGet();
        return Optional.of("done");
    }

    @Locked(value = "'report:hourly'", onBusy = OnBusy.SKIP)
    public int primitiveReport() {
        bodies.incrementAndGet();
        return 1;
    }

    @Locked(value = "'report:hourly'", timeout = "200ms")
    public String waitingReport() {
        bodies.incrementAndGet();
        return "done";
    }

    @Locked("'io:' + #path")
    public void write(String path) throws IOException {
        throw new IOException("disk full: " + path);
    }
}
