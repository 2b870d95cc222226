package dev.locking.core;

/** Rethrows what a job threw, unchanged, whatever its static type. */
final class Job {
    private Job() {}

    /**
     * Throws {@code t} as is. A job can only throw its declared checked exception or an unchecked one,
     * so rethrowing it unchecked hides nothing the compiler could have checked. The type variable's
     * bound is {@link Throwable}, so the cast is erased and never fails at run time.
     */
    @SuppressWarnings({"unchecked", "TypeParameterUnusedInFormals"})
    static <X extends Throwable> RuntimeException rethrow(Throwable t) throws X {
        throw (X) t;
    }
}
