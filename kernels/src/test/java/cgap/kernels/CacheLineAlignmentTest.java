package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheLineAlignmentTest {
    @Test
    void addressesCanBeHadWithNativeAccess() {
        // The build runs tests with --enable-native-access=ALL-UNNAMED, as ./cgap runs the jar.
        assertTrue(CacheLineAlignment.available(), "memmove downcall unavailable: kernels would run on unaligned arrays");
    }

    @Test
    void theDowncallReturnsTheAddressItWasGiven() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native64 = arena.allocate(4096, 64);
            assertEquals(native64.address(), CacheLineAlignment.addressOf(native64));
            assertEquals(native64.address() + 200, CacheLineAlignment.addressOf(native64.asSlice(200)));
        }
    }

    @Test
    void firstAlignedIndexStartsACacheLineInArraysOfEverySize() {
        for (int length = 1; length <= 4096; length = length * 3 + 1) {
            float[] a = new float[length + CacheLineAlignment.SLACK_FLOATS];
            int at = CacheLineAlignment.firstAlignedIndex(a);
            assertTrue(at >= 0 && at < CacheLineAlignment.SLACK_FLOATS, "index " + at);
            long address = CacheLineAlignment.addressOf(MemorySegment.ofArray(a).asSlice((long) at * Float.BYTES));
            // The array cannot move between the two calls unless a GC runs in between; retry once if it did.
            if (address % CacheLineAlignment.LINE_BYTES != 0) {
                at = CacheLineAlignment.firstAlignedIndex(a);
                address = CacheLineAlignment.addressOf(MemorySegment.ofArray(a).asSlice((long) at * Float.BYTES));
            }
            assertEquals(0, address % CacheLineAlignment.LINE_BYTES, "length " + length + ", index " + at);
        }
    }

    @Test
    void anEmptyArrayHasIndexZero() {
        assertEquals(0, CacheLineAlignment.firstAlignedIndex(new float[0]));
    }
}
