package dev.locking.micrometer;

import dev.locking.api.LockingEvent;
import dev.locking.api.LockingEvent.Operation;
import dev.locking.api.LockingEvent.Outcome;
import dev.locking.api.LockingListener;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Records what a {@code LockingService} does into a Micrometer {@link MeterRegistry}: register it as the
 * service's listener and bind it to the registry.
 *
 * <pre>{@code
 * LockingMetrics metrics = new LockingMetrics(registry);          // or new LockingMetrics(), then bindTo(registry)
 * LockingService locking = Locking.builder().listener(metrics).build();
 * }</pre>
 *
 * <h2>Meters</h2>
 * <table>
 *   <caption>The meters and their tags</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@value #OPERATIONS}</td><td>counter</td><td>provider, operation, outcome</td>
 *       <td>every {@code execute}, {@code acquire}, {@code release} and {@code releaseAll}, by outcome
 *       ({@code taken}, {@code conflict}, {@code timeout}, {@code lost}, {@code error}, {@code released},
 *       {@code not_released})</td></tr>
 *   <tr><td>{@value #WAIT}</td><td>timer</td><td>provider, operation, outcome</td>
 *       <td>time an {@code execute} or {@code acquire} waited for its keys, until it took them or gave up</td></tr>
 *   <tr><td>{@value #HELD}</td><td>timer</td><td>provider, outcome</td>
 *       <td>time an {@code execute} held its keys while its job ran ({@code taken}, or {@code lost})</td></tr>
 *   <tr><td>{@value #RELEASES}</td><td>counter</td><td>provider, operation, outcome</td>
 *       <td>releases: each {@code release} and {@code releaseAll} call ({@code released}, {@code not_released},
 *       {@code error}) and the release at the end of each {@code execute} whose job ran ({@code released}, or
 *       {@code lost} when its lease was lost first)</td></tr>
 *   <tr><td>{@value #ACTIVE}</td><td>gauge</td><td>provider</td>
 *       <td>the locks this service holds through {@code execute} now: calls whose job is running. Locks taken
 *       with {@code acquire} are not counted: they outlive the call and may end where this service cannot see
 *       it (released by another process, or their lease ends). Registered at the provider's first event.</td></tr>
 * </table>
 * Tag values: {@code provider} is the provider id ({@code lp_redis}); {@code operation} is {@code execute},
 * {@code acquire}, {@code release} or {@code release_all}. Keys are never a tag: they are unbounded, and a meter
 * per key would exhaust the registry.
 *
 * <h2>Registries</h2>
 * One instance records into one registry (to record into several, bind it to a {@code CompositeMeterRegistry}).
 * Events that come before {@link #bindTo} are not recorded.
 *
 * <p>Concurrency: thread-safe; every service thread calls it. The registry is published through a volatile
 * field; the gauges' values are atomics in a concurrent map, one per provider.
 *
 * @since 0.2.0
 */
public final class LockingMetrics implements LockingListener, MeterBinder {
    /** Counter of operations, by provider, operation and outcome. */
    public static final String OPERATIONS = "locking.operations";
    /** Timer of the time waited for keys, by provider, operation and outcome. */
    public static final String WAIT = "locking.wait";
    /** Timer of the time an {@code execute} held its keys, by provider and outcome. */
    public static final String HELD = "locking.held";
    /** Counter of releases, by provider, operation and outcome. */
    public static final String RELEASES = "locking.releases";
    /** Gauge of the {@code execute} calls holding their keys now, by provider. */
    public static final String ACTIVE = "locking.active";

    private final Tags common;
    private volatile @Nullable MeterRegistry registry;
    /** Per provider id: the {@code execute} calls running their job now. */
    private final ConcurrentHashMap<String, AtomicLong> active = new ConcurrentHashMap<>();

    /** Creates the meters' recorder without a registry yet: call {@link #bindTo} before events count. */
    public LockingMetrics() {
        this(Tags.empty());
    }

    /**
     * Creates the recorder with tags added to every meter (such as the application's name).
     *
     * @param tags extra tags; none of them may be called {@code provider}, {@code operation} or {@code outcome}
     * @throws IllegalArgumentException if a tag uses one of those names
     */
    public LockingMetrics(Iterable<Tag> tags) {
        Tags t = Tags.of(tags);
        for (Tag tag : t) {
            if (tag.getKey().equals("provider") || tag.getKey().equals("operation") || tag.getKey().equals("outcome")) {
                throw new IllegalArgumentException("tag name \"" + tag.getKey() + "\" is used by the locking meters");
            }
        }
        this.common = t;
    }

    /**
     * Creates the recorder and binds it to a registry at once.
     *
     * @param registry where the meters go
     */
    public LockingMetrics(MeterRegistry registry) {
        this(Tags.empty());
        bindTo(registry);
    }

    /**
     * Records into this registry from now on.
     *
     * @param registry where the meters go
     * @throws IllegalStateException if already bound to another registry
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        MeterRegistry bound = this.registry;
        if (bound != null && bound != registry) {
            throw new IllegalStateException("LockingMetrics is bound to a registry already; bind a"
                    + " CompositeMeterRegistry to record into several");
        }
        this.registry = registry;
        active.forEach((provider, value) -> registerGauge(registry, provider, value));
    }

    @Override
    public void onJobStarted(LockingEvent event) {
        MeterRegistry r = registry;
        if (r != null) {
            activeOf(r, event.providerId()).incrementAndGet();
        }
    }

    @Override
    public void onOperation(LockingEvent event) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        String provider = event.providerId();
        Operation operation = event.operation();
        Outcome outcome = event.outcome();
        Tags tags = common.and("provider", provider, "operation", operation.tag(), "outcome", outcome.tag());
        r.counter(OPERATIONS, tags).increment();
        switch (operation) {
            case ACQUIRE -> r.timer(WAIT, tags).record(event.waited());
            case EXECUTE -> {
                r.timer(WAIT, tags).record(event.waited());
                if (outcome == Outcome.TAKEN || outcome == Outcome.LOST) { // the job ran: it had started
                    Timer.builder(HELD).tags(common).tag("provider", provider).tag("outcome", outcome.tag())
                            .register(r).record(event.held());
                    r.counter(RELEASES, common.and("provider", provider, "operation", operation.tag(), "outcome",
                            outcome == Outcome.TAKEN ? Outcome.RELEASED.tag() : Outcome.LOST.tag())).increment();
                    // Floored at zero: a job that started before bindTo was not counted.
                    activeOf(r, provider).updateAndGet(v -> v > 0 ? v - 1 : 0);
                }
            }
            case RELEASE, RELEASE_ALL -> r.counter(RELEASES, tags).increment();
        }
    }

    private AtomicLong activeOf(MeterRegistry r, String provider) {
        AtomicLong value = active.get(provider);
        if (value != null) {
            return value;
        }
        return active.computeIfAbsent(provider, p -> {
            AtomicLong created = new AtomicLong();
            registerGauge(r, p, created);
            return created;
        });
    }

    private void registerGauge(MeterRegistry r, String provider, AtomicLong value) {
        Gauge.builder(ACTIVE, value, AtomicLong::get).tags(common).tag("provider", provider)
                .description("execute calls of this service holding their keys now").strongReference(true)
                .register(r);
    }
}
