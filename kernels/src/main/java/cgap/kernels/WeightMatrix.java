package cgap.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A row-major weight matrix [rows, cols] read in place (memory-mapped safetensors data or heap).
 * Element (r, c) is at byte offset (r*cols + c) * dtype.bytes, little-endian. The segment may be unaligned.
 * Kernels read it from {@link Parallel} worker threads, so it must come from a shared, global or
 * automatic arena (or the heap), not a confined one.
 *
 * <p>F16 NaNs decode to NaNs with the same sign and payload; whether the quiet bit gets set is not
 * defined (Float.float16ToFloat itself differs there between interpreter and JIT).
 */
public record WeightMatrix(MemorySegment data, DType dtype, int rows, int cols) {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public WeightMatrix {
        if (data == null || dtype == null) throw new IllegalArgumentException("WeightMatrix needs data and dtype");
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("WeightMatrix shape must be non-negative, got [" + rows + ", " + cols + "]");
        long needed = (long) rows * cols * dtype.bytes;
        if (data.byteSize() < needed) {
            throw new IllegalArgumentException("WeightMatrix [" + rows + ", " + cols + "] " + dtype + " needs " + needed
                    + " bytes but the segment holds " + data.byteSize());
        }
    }

    /** A heap F32 matrix over a copy-free view of {@code values} (row-major, length rows*cols). */
    public static WeightMatrix ofFloats(float[] values, int rows, int cols) {
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException("ofFloats: " + values.length + " values for shape [" + rows + ", " + cols + "]");
        }
        return new WeightMatrix(MemorySegment.ofArray(values), DType.F32, rows, cols);
    }

    /** Element (r, c) decoded to f32. */
    public float get(int r, int c) {
        if (r < 0 || r >= rows || c < 0 || c >= cols) {
            throw new IndexOutOfBoundsException("(" + r + ", " + c + ") outside [" + rows + ", " + cols + "]");
        }
        return decode(data, dtype, ((long) r * cols + c) * dtype.bytes);
    }

    /** A decoded f32 copy of row r. */
    public float[] row(int r) {
        if (r < 0 || r >= rows) throw new IndexOutOfBoundsException("row " + r + " outside [0, " + rows + ")");
        float[] out = new float[cols];
        MatMul.decodeRow(this, r, 0, cols, out, 0);
        return out;
    }

    /** Byte offset of element (r, c). */
    long offset(int r, int c) { return ((long) r * cols + c) * dtype.bytes; }

    /** Decodes the element at byteOffset, exactly as torch widens BF16/F16 to f32. */
    static float decode(MemorySegment data, DType dtype, long byteOffset) {
        return switch (dtype) {
            case F32 -> data.get(FLOAT_LE, byteOffset);
            case BF16 -> Float.intBitsToFloat((data.get(SHORT_LE, byteOffset) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.get(SHORT_LE, byteOffset));
        };
    }
}
