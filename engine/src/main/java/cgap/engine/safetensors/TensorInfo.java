package cgap.engine.safetensors;

import java.util.Arrays;

/**
 * One header entry of a safetensors file, as validated: the tensor's name, its dtype as the file
 * spells it (any safetensors dtype, readable or not), its shape, and where its bytes lie.
 *
 * @param begin offset of the first byte, relative to the start of the data section
 * @param end   offset one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long byteLength() {
        return end - begin;
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d; // cannot overflow: validation bounded shape x dtype size by the file's size
        }
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString() + " bytes [" + begin + ", " + end + ")";
    }
}
