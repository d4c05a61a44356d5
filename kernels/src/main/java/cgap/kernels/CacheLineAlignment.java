package cgap.kernels;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Where in a heap float[] the cache lines begin, so that a kernel can start its vectors on them.
 *
 * <p>Why: a float[]'s elements start 16 bytes (default headers) past an 8-byte-aligned object, so a 64-byte load from it
 * usually spans two cache lines. On the tiled GEMM of {@link MatMul} that cost a third of its speed: one thread
 * ran a 9216 x 2304 BF16 prefill GEMM at 73 GFLOP/s with its arrays where they fell and at 109 with all three
 * (weight block, accumulators, packed x) on cache-line starts (AVX-512; with AVX2 46 against 55; bench/RESULTS.md).
 *
 * <p>How: Java gives no array addresses, but a critical downcall may take a heap array, pinned for the call. libc's
 * {@code memmove(a, a, 0)} returns its first argument, so it hands back the address. The GC may move the array
 * afterwards, so callers ask again at the start of each long pass over it; an answer gone stale costs speed, never
 * correctness. ./cgap and the build run with --enable-native-access=ALL-UNNAMED. Without it, JDK 25 warns once
 * on the first downcall, and where native access is refused (--illegal-native-access=deny) the answer is 0, the
 * array's start, which is correct and slower.
 */
public final class CacheLineAlignment {
    public static final int LINE_BYTES = 64;
    /** Extra floats to give an array so that a line-aligned run of the wanted length fits in it wherever it lies. */
    public static final int SLACK_FLOATS = LINE_BYTES / Float.BYTES;

    private static final MethodHandle MEMMOVE = lookUpMemmove();

    private CacheLineAlignment() {}

    /**
     * The first index of a (below {@link #SLACK_FLOATS}) whose element starts a cache line now, or 0 when the address
     * cannot be had (no native access, or an empty array).
     */
    public static int firstAlignedIndex(float[] a) {
        if (MEMMOVE == null || a.length == 0) return 0;
        long address = addressOf(MemorySegment.ofArray(a));
        return (int) ((LINE_BYTES - address % LINE_BYTES) % LINE_BYTES) / Float.BYTES;
    }

    /** The address of a segment's first byte as libc sees it (heap segments pinned for the call); -1 without native access. */
    static long addressOf(MemorySegment segment) {
        if (MEMMOVE == null) return -1;
        try {
            return ((MemorySegment) MEMMOVE.invokeExact(segment, segment, 0L)).address();
        } catch (Throwable e) {
            throw new IllegalStateException("memmove downcall failed", e);
        }
    }

    /** True when addresses can be had (the JVM allows this module native access). */
    static boolean available() {
        return MEMMOVE != null;
    }

    private static MethodHandle lookUpMemmove() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.downcallHandle(linker.defaultLookup().find("memmove").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                    Linker.Option.critical(true));
        } catch (Throwable e) {
            return null;
        }
    }
}
