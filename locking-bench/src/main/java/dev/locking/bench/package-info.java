/**
 * The benchmark harness: every Locking provider measured against the library a user would pick instead,
 * on the same backend and in the same run. Start it with {@link dev.locking.bench.BenchMain}.
 */
@NullMarked
package dev.locking.bench;

import org.jspecify.annotations.NullMarked;
