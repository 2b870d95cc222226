package dev.locking.core;

/** Rethrows what a job threw, unchanged, whatever its static type. */
final class Job {
    private Job() {}

    /**
     * Throws {@code t} as is. A job can only throw its declared {@code E} or an unchecked exception, so
     * the unchecked cast does not lie about anything the compiler could have checked.
     */
    @SuppressWarnings("unchecked")
    static <E extends Exception> RuntimeException rethrow(Throwable t) throws E {
        throw (E) t;
    }
}
