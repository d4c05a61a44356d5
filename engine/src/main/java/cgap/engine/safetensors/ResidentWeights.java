package cgap.engine.safetensors;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * Optional pinning of mapped weights in RAM ({@code -Dcgap.mlock=true}). Mapped file pages are page cache: on
 * machines whose kernel reclaims cold pages proactively (DAMON reclaim), weights read once per token get
 * evicted between tokens and decode re-reads them from disk. mlock(2) keeps them resident. Failure (no
 * permission, RLIMIT_MEMLOCK) is reported once and the mapping is used as it is. Without the privilege,
 * {@code -Dcgap.weights=memory} keeps the weights out of the page cache instead (see {@link SafetensorsFile}).
 */
final class ResidentWeights {
    private ResidentWeights() {}

    private static final boolean REQUESTED = Boolean.getBoolean("cgap.mlock");
    private static volatile boolean warned;

    static void lockIfRequested(MemorySegment mapped, Path file) {
        if (!REQUESTED || mapped.byteSize() == 0) return;
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle mlock = linker.downcallHandle(linker.defaultLookup().find("mlock").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            int rc = (int) mlock.invokeExact(mapped, mapped.byteSize());
            if (rc != 0) warnOnce(file, "mlock returned " + rc + " (permission or RLIMIT_MEMLOCK)");
        } catch (Throwable e) {
            warnOnce(file, e.toString());
        }
    }

    private static void warnOnce(Path file, String why) {
        if (warned) return;
        warned = true;
        System.err.println("cgap: -Dcgap.mlock=true could not pin " + file + " in memory: " + why + "; continuing unpinned");
    }
}
