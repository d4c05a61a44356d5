package cgap.engine.safetensors;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Fresh anonymous memory for weights read into memory (-Dcgap.weights=memory): mmap(2) asked for transparent huge
 * pages (madvise MADV_HUGEPAGE), unmapped when the arena closes. Why not Arena.allocate: it zero-fills at once, so every
 * 4 KiB page faults before the file's bytes arrive; on the VM where this was measured, first touches of 4 KiB pages
 * took 7.0-7.4 s for 2.5 GB and of huge pages 2.8-3.2 s. Where mmap is not found (not Linux) or fails, Arena.allocate.
 */
final class AnonymousMemory {
    private AnonymousMemory() {}

    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MADV_HUGEPAGE = 14;
    private static final MethodHandle MMAP, MUNMAP, MADVISE;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        boolean linux = System.getProperty("os.name", "").startsWith("Linux");
        MMAP = linux ? libc.find("mmap").map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG))).orElse(null) : null;
        MUNMAP = linux ? libc.find("munmap").map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG))).orElse(null) : null;
        MADVISE = linux ? libc.find("madvise").map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT))).orElse(null) : null;
    }

    /** bytes of zeroed memory, 64-byte aligned (page aligned where mmap serves it), valid until the arena closes. */
    @SuppressWarnings("restricted") // the segment spans exactly the mapping, and its cleanup unmaps it once
    static MemorySegment allocate(long bytes, Arena arena) {
        if (MMAP == null || MUNMAP == null || MADVISE == null || bytes == 0) return arena.allocate(bytes, 64);
        try {
            MemorySegment at = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (at.address() == -1L) return arena.allocate(bytes, 64); // MAP_FAILED: let the JDK try (and report)
            int ignored = (int) MADVISE.invokeExact(at, bytes, MADV_HUGEPAGE); // advice only: 4 KiB pages work too
            long address = at.address();
            return MemorySegment.ofAddress(address).reinterpret(bytes, arena, segment -> unmap(address, bytes));
        } catch (RuntimeException | Error e) {
            throw e; // the fallback's OutOfMemoryError among them, which the caller reports
        } catch (Throwable e) {
            throw new IllegalStateException("mmap of " + bytes + " bytes failed: " + e, e);
        }
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
        } catch (Throwable e) {
            throw new IllegalStateException("munmap failed: " + e, e);
        }
    }
}
