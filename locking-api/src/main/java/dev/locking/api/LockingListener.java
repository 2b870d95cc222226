package dev.locking.api;

/**
 * Hears what a {@link LockingService} does, for metrics and tracing: each operation's outcome and how long it
 * waited for its keys, and for {@code execute} when its job starts and how long it held its keys.
 *
 * <p>Register one on the service's builder ({@code Locking.builder().listener(...)}), or list its class in
 * {@code META-INF/services/dev.locking.api.LockingListener} (then it needs a public no-argument constructor),
 * and every service built finds it through {@link java.util.ServiceLoader}. A service with no listener pays
 * nothing for this interface: it neither reads the clock nor creates events.
 *
 * <pre>{@code
 * LockingListener timeouts = new LockingListener() {
 *     @Override
 *     public void onOperation(LockingEvent event) {
 *         if (event.outcome() == LockingEvent.Outcome.TIMEOUT) {
 *             System.out.println(event.operation() + " timed out on " + event.providerId());
 *         }
 *     }
 * };
 * LockingService locking = Locking.builder().listener(timeouts).build();
 * }</pre>
 *
 * <h2>Calls</h2>
 * Methods are called on the thread that made the operation (the caller's thread, for {@code execute} also
 * the thread the job runs on), after the step they report, never while the core holds a monitor or a
 * provider's lock: a listener may block (briefly: the operation waits for it) and may call the service.
 * Listeners are called in the order they were registered, discovered ones after those of the builder.
 *
 * <h2>Failures</h2>
 * A listener that throws does not change the operation: the exception is logged once per listener (at
 * WARN) and later ones are ignored.
 *
 * <h2>Keys</h2>
 * Events carry the keys, for tracing and debugging. Metrics must never be tagged by them: keys are
 * unbounded (an order id, a user id), and a meter per key exhausts a metrics backend.
 *
 * <p>Concurrency: implementations must be thread-safe; one listener hears every thread of every service it
 * is registered with.
 *
 * @since 0.2.0
 */
public interface LockingListener {

    /**
     * An {@code execute} took its keys and its job is about to run; {@link LockingEvent#outcome()} is
     * {@link LockingEvent.Outcome#TAKEN} and {@link LockingEvent#waited()} how long it waited (zero for a nested
     * {@code execute} whose keys were all held by an enclosing call: it takes nothing and runs at once). Every
     * call is followed, on the same thread, by exactly one {@link #onOperation} of the same call, with outcome
     * {@link LockingEvent.Outcome#TAKEN} or {@link LockingEvent.Outcome#LOST} and {@link LockingEvent#held()};
     * an {@code execute} whose job never started reports {@code onOperation} only.
     *
     * @param event what was taken
     */
    default void onJobStarted(LockingEvent event) {}

    /**
     * An operation ended: {@code execute}, {@code acquire}, {@code release} or {@code releaseAll}, with its
     * outcome. ({@code inspect} is not reported.) Called once per call, also when it failed; a call refused for
     * bad arguments ({@link IllegalArgumentException}) or an unknown provider is not reported.
     *
     * @param event the operation and its outcome
     */
    default void onOperation(LockingEvent event) {}
}
