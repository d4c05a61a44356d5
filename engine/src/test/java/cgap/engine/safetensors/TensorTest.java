package cgap.engine.safetensors;

import cgap.engine.Tensor;
import cgap.kernels.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Tensor record on hand-made little-endian bytes, and mapped tensors beyond Java's 2 GB limits. */
class TensorTest {

    @TempDir
    Path dir;

    private static MemorySegment littleEndian(int bytes, java.util.function.Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        fill.accept(b);
        return MemorySegment.ofArray(b.array());
    }

    @Test
    void decodesEachDtypeLittleEndian() {
        Tensor f32 = new Tensor("f32", DType.F32, new long[] {2}, littleEndian(8, b -> b.putFloat(-2.5f).putFloat(1e-3f)));
        assertEquals(-2.5f, f32.getFloat(0));
        assertEquals(1e-3f, f32.getFloat(1));

        // F16: 0x3C00 = 1.0, 0xC000 = -2.0, 0x0001 = 2^-24 (smallest subnormal), 0x7BFF = 65504
        Tensor f16 = new Tensor("f16", DType.F16, new long[] {4},
                littleEndian(8, b -> b.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x0001).putShort((short) 0x7BFF)));
        assertArrayEquals(new float[] {1f, -2f, 0x1p-24f, 65504f}, f16.toFloatArray());

        // BF16: 0x3F80 = 1.0, 0xC049 = -3.140625, 0x0001 = 2^-133 (a subnormal), 0x7F80 = +inf
        Tensor bf16 = new Tensor("bf16", DType.BF16, new long[] {2, 2},
                littleEndian(8, b -> b.putShort((short) 0x3F80).putShort((short) 0xC049).putShort((short) 0x0001).putShort((short) 0x7F80)));
        assertArrayEquals(new float[] {1f, -3.140625f, 0x1p-133f, Float.POSITIVE_INFINITY}, bf16.toFloatArray());
        assertEquals(4, bf16.numel());
        assertEquals(2, bf16.rank());
    }

    @Test
    void bf16ConversionHelpers() {
        assertEquals((short) 0x3F80, Tensor.floatToBf16(1.00390625f)); // tie, to even (down)
        assertEquals((short) 0x3F82, Tensor.floatToBf16(1.01171875f)); // tie, to even (up)
        assertEquals((short) 0x7F80, Tensor.floatToBf16(Float.MAX_VALUE));
        assertEquals(8.9375f, Tensor.bf16ToFloat(Tensor.floatToBf16((float) Math.sqrt(80)))); // Gemma's embed scale
        assertTrue(Float.isNaN(Tensor.bf16ToFloat(Tensor.floatToBf16(Float.intBitsToFloat(0x7F800001)))));
    }

    @Test
    void shapeIsCopiedInAndOut() {
        long[] shape = {1, 2};
        Tensor t = new Tensor("t", DType.F32, shape, MemorySegment.ofArray(new float[2]));
        shape[0] = 9;
        t.shape()[1] = 9;
        assertArrayEquals(new long[] {1, 2}, t.shape());
        assertEquals("[1, 2]", t.shapeString());
        assertEquals("[]", new Tensor("s", DType.F32, new long[0], MemorySegment.ofArray(new float[1])).shapeString());
    }

    @Test
    void refusesDataOfTheWrongSizeAndBadDimensions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Tensor("w", DType.BF16, new long[] {3}, MemorySegment.ofArray(new byte[4])));
        assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains("needs 6 bytes"), e.getMessage());
        Tensor t = new Tensor("t", DType.F32, new long[] {2}, MemorySegment.ofArray(new float[2]));
        assertThrows(IndexOutOfBoundsException.class, () -> t.dim(1));
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(2));
    }

    /**
     * A sparse file holding one BF16 tensor of 2^31 + 4 elements (4 GB of data): it maps without
     * copying, its last element is reachable, and only the conversion to a Java array is refused.
     */
    @Test
    void tensorsBeyondTwoGigabytesAreMappedNotCopied() throws IOException {
        long elements = (1L << 31) + 4;
        long dataBytes = 2 * elements;
        String json = "{\"big\":{\"dtype\":\"BF16\",\"shape\":[" + elements + "],\"data_offsets\":[0," + dataBytes + "]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            raf.write(length.array());
            raf.write(header);
            raf.setLength(8 + header.length + dataBytes); // sparse: no disk is used for the zeros
            raf.seek(8 + header.length + dataBytes - 2);
            raf.write(new byte[] {(byte) 0x80, (byte) 0x3F}); // last element = 1.0
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Tensor big = f.tensor("big");
            assertEquals(elements, big.numel());
            assertEquals(1f, big.getFloat(elements - 1));
            assertEquals(0f, big.getFloat(elements - 2));
            IllegalStateException e = assertThrows(IllegalStateException.class, big::toFloatArray);
            assertTrue(e.getMessage().contains("tensor big") && e.getMessage().contains("2147483652 elements"), e.getMessage());
        }
    }

    /** The mapping lives in a shared arena: threads other than the opener read tensors concurrently. */
    @Test
    void tensorsAreReadableFromOtherThreads() throws Exception {
        Path file = dir.resolve("shared.safetensors");
        float[] values = new float[1000];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f;
        }
        new SafetensorsWriter(DType.F32).add("x", new long[] {values.length}, values).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file); ExecutorService pool = Executors.newFixedThreadPool(4)) {
            Tensor x = f.tensor("x");
            List<Future<Float>> sums = pool.invokeAll(List.of(
                    () -> sum(x), () -> sum(f.tensor("x")), () -> sum(x), () -> sum(f.tensor("x"))));
            for (Future<Float> s : sums) {
                assertEquals(249750f, s.get());
            }
        }
    }

    private static float sum(Tensor t) {
        float s = 0;
        for (long i = 0; i < t.numel(); i++) {
            s += t.getFloat(i);
        }
        return s;
    }
}
