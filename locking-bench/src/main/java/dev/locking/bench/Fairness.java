package dev.locking.bench;

/** How evenly a lock shared its entries among the threads that wanted it. */
final class Fairness {
    private Fairness() {}

    /**
     * Jain's fairness index of the threads' acquisition counts: {@code (sum x)^2 / (n * sum x^2)}. It is 1
     * when every thread entered equally often and {@code 1/n} when one thread took every entry; NaN when
     * there are no threads or no entries.
     */
    static double jainIndex(long[] counts) {
        if (counts.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        double squares = 0;
        for (long c : counts) {
            if (c < 0) {
                throw new IllegalArgumentException("a negative count: " + c);
            }
            sum += c;
            squares += (double) c * c;
        }
        return squares == 0 ? Double.NaN : sum * sum / (counts.length * squares);
    }
}
