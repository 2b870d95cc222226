/**
 * The Hazelcast provider, {@code lp_hazelcast}: locks kept in an open-source Hazelcast {@code IMap}, as an
 * embedded member or as a client of a cluster.
 *
 * <p>Applications only meet {@link dev.locking.hazelcast.HazelcastProviderFactory}: the core finds it
 * through {@link java.util.ServiceLoader}, and its {@code fromInstance} methods wrap a
 * {@code HazelcastInstance} the application already has. Everything else here is internal.
 *
 * <p>The entry processors, the stored value and the results are Hazelcast
 * {@link com.hazelcast.nio.serialization.DataSerializable} classes of this package that depend on Hazelcast
 * and the JDK only: members that clients connect to need this jar on their classpath (and nothing else from
 * Locking, and no configuration).
 *
 * @since 0.1.0
 */
@NullMarked
package dev.locking.hazelcast;

import org.jspecify.annotations.NullMarked;
