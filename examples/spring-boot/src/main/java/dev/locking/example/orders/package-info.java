/** An example Spring Boot order service that pays each order once, with {@code @Locked}. */
@NullMarked
package dev.locking.example.orders;

import org.jspecify.annotations.NullMarked;
