/**
 * Spring Boot support: {@link dev.locking.spring.LockingAutoConfiguration} builds one
 * {@code LockingService} from the Spring {@code Environment}, and {@link dev.locking.spring.Locked} runs a
 * bean method inside {@code execute}.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.locking.spring;

import org.jspecify.annotations.NullMarked;
