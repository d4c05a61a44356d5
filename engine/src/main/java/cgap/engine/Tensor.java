package cgap.engine;

import cgap.kernels.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named, shaped block of numbers in one of the engine's storage types, row-major, little-endian.
 *
 * <p>The data is usually a slice of a memory-mapped checkpoint, so a tensor costs no heap and is
 * only valid while the file that produced it is open. The shape is copied on the way in and out,
 * so a tensor cannot be changed behind its owner's back; use {@link #dim(int)} in hot code.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {

    // Safetensors does not align tensors, so every read is an unaligned little-endian read.
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Tensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(
                        "tensor " + name + ": negative dimension in shape " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        long expectedBytes = Math.multiplyExact(elements, (long) dtype.bytes);
        if (data.byteSize() != expectedBytes) {
            throw new IllegalArgumentException("tensor " + name + ": " + dtype + " " + Arrays.toString(shape)
                    + " needs " + expectedBytes + " bytes but its data has " + data.byteSize());
        }
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long numel() {
        return data.byteSize() / dtype.bytes;
    }

    /** Size of dimension {@code i}; dimensions beyond {@code int} range are refused rather than truncated. */
    public int dim(int i) {
        if (i < 0 || i >= shape.length) {
            throw new IndexOutOfBoundsException("tensor " + name + " has rank " + shape.length + ", no dimension " + i);
        }
        return Math.toIntExact(shape[i]);
    }

    /** Element at a row-major flat index, widened to f32 (exactly: every F16 and BF16 value is an f32). */
    public float getFloat(long flatIndex) {
        long byteOffset = flatIndex * dtype.bytes;
        return switch (dtype) {
            case F32 -> data.get(F32_LE, byteOffset);
            case F16 -> Float.float16ToFloat(data.get(U16_LE, byteOffset));
            case BF16 -> bf16ToFloat(data.get(U16_LE, byteOffset));
        };
    }

    /** All elements widened to f32, on the heap. Refuses tensors too large for a Java array. */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalStateException("tensor " + name + " " + shapeString() + " has " + n
                    + " elements, more than a Java array holds (" + Integer.MAX_VALUE + ")");
        }
        float[] out = new float[(int) n];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = getFloat(i);
            }
        }
        return out;
    }

    /** The shape as "[2, 3]"; a scalar is "[]". */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return "Tensor[" + name + " " + dtype + " " + shapeString() + "]";
    }

    /** BF16 is the top half of an f32, so widening is a shift. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * Rounds an f32 to the nearest BF16, ties to even (as torch does); overflow becomes infinity.
     * A NaN stays a NaN of the same sign: its quiet bit is set so that dropping the low payload
     * bits cannot turn it into an infinity.
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsbOfResult = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsbOfResult) >>> 16);
    }
}
