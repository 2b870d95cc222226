/**
 * JMH benchmarks of the hot paths that run in this JVM: the core's {@code execute}, {@code acquire} and
 * {@code release} and its argument checks, on {@code lp_memory}, and {@code lp_memory} itself through the
 * SPI. Run them with {@code java -cp <classpath> org.openjdk.jmh.Main 'dev.locking.bench.jmh.*'} (see
 * {@code docs/BENCHMARKS.md}).
 */
@NullMarked
package dev.locking.bench.jmh;

import org.jspecify.annotations.NullMarked;
