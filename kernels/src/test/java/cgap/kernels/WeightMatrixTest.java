package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WeightMatrixTest {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Every 16-bit pattern, stored one byte off alignment so the vector loads are unaligned. */
    private static WeightMatrix allPatterns(Arena arena, DType dtype) {
        MemorySegment segment = arena.allocate(2 * 65536 + 1).asSlice(1);
        for (int i = 0; i < 65536; i++) segment.set(SHORT_LE, 2L * i, (short) i);
        return new WeightMatrix(segment, dtype, 256, 256);
    }

    /**
     * Raw bits, except that a NaN's quiet bit is cleared: Float.float16ToFloat itself returns a signalling
     * NaN payload when interpreted and a quieted one when JIT-compiled (vcvtph2ps), so only sign and
     * payload are defined.
     */
    private static int comparable(float value) {
        int bits = Float.floatToRawIntBits(value);
        return Float.isNaN(value) ? bits & ~0x0040_0000 : bits;
    }

    @Test
    void vectorF16DecodeMatchesFloat16ToFloatForEveryBitPattern() {
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = allPatterns(arena, DType.F16);
            for (int r = 0; r < 256; r++) {
                float[] row = w.row(r);
                for (int c = 0; c < 256; c++) {
                    int bits = r * 256 + c;
                    int expected = comparable(Float.float16ToFloat((short) bits));
                    assertEquals(expected, comparable(row[c]), "f16 pattern 0x" + Integer.toHexString(bits));
                    assertEquals(expected, comparable(w.get(r, c)), "get, f16 pattern 0x" + Integer.toHexString(bits));
                }
            }
        }
    }

    @Test
    void vectorBF16DecodeIsTheTopHalfOfAnF32ForEveryBitPattern() {
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = allPatterns(arena, DType.BF16);
            for (int r = 0; r < 256; r++) {
                float[] row = w.row(r);
                for (int c = 0; c < 256; c++) {
                    int bits = r * 256 + c;
                    assertEquals(bits << 16, Float.floatToRawIntBits(row[c]), "bf16 pattern 0x" + Integer.toHexString(bits));
                    assertEquals(bits << 16, Float.floatToRawIntBits(w.get(r, c)));
                }
            }
        }
    }

    @Test
    void knownValuesInEachDtype() {
        float[] values = {1f, -2.5f, 0.15625f, 65504f, -0f, 3f};
        try (Arena arena = Arena.ofShared()) {
            for (DType dtype : DType.values()) {
                WeightMatrix w = TestData.matrix(arena, dtype, values, 2, 3);
                assertEquals(1f, w.get(0, 0), dtype.name());
                assertEquals(-2.5f, w.get(0, 1), dtype.name());
                assertEquals(0.15625f, w.get(0, 2), dtype.name());
                assertEquals(dtype == DType.BF16 ? 65536f : 65504f, w.get(1, 0), dtype.name()); // 65504 rounds up in bf16
                assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(w.get(1, 1)), dtype.name());
                assertArrayEquals(new float[] {w.get(1, 0), -0f, 3f}, w.row(1), dtype.name());
            }
        }
    }

    @Test
    void ofFloatsIsRowMajor() {
        WeightMatrix w = WeightMatrix.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(DType.F32, w.dtype());
        assertEquals(6f, w.get(1, 2));
        assertArrayEquals(new float[] {4, 5, 6}, w.row(1));
    }

    @Test
    void rejectsTooSmallSegmentsAndBadIndices() {
        assertThrows(IllegalArgumentException.class, () -> new WeightMatrix(MemorySegment.ofArray(new byte[10]), DType.BF16, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> WeightMatrix.ofFloats(new float[5], 2, 3));
        WeightMatrix w = WeightMatrix.ofFloats(new float[6], 2, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> w.get(2, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> w.get(0, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> w.row(-1));
    }
}
