package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MachineProbeTest {
    @Test
    void readRateCoversSegmentsOfAnySize() {
        try (Arena arena = Arena.ofShared()) {
            // Sizes that are not multiples of the 256 KiB piece nor of a vector, several pieces and a tiny one.
            List<MemorySegment> segments = List.of(arena.allocate(3 * (1 << 18) + 100), arena.allocate(4096), arena.allocate(70_000));
            double gbs = MachineProbe.readGBs(segments, 2);
            assertTrue(gbs > 0 && Double.isFinite(gbs), "rate " + gbs);
        }
    }

    @Test
    void readRateRejectsNothingToRead() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MachineProbe.readGBs(List.of(), 1));
        assertEquals("readGBs: nothing to read", e.getMessage());
    }
}
