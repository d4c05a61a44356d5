package cgap.kernels;

/** A body over a half-open range {@code [start, endExclusive)}; see {@link Parallel#forChunks}. */
@FunctionalInterface
public interface IntIntConsumer {
    void accept(int start, int endExclusive);
}
