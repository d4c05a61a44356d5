package cgap.engine.safetensors;

import cgap.engine.Tensor;
import cgap.kernels.DType;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static cgap.engine.safetensors.PythonFixturesTest.expected;
import static cgap.engine.safetensors.PythonFixturesTest.longs;
import static cgap.engine.safetensors.PythonFixturesTest.storedBits;
import static cgap.engine.safetensors.TestFiles.expectError;
import static cgap.engine.safetensors.TestFiles.pythonFixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsWriterTest {

    @TempDir
    Path dir;

    private static final float[] SPECIALS = {0f, -0f, 1f, -1.5f, Float.MIN_VALUE, -Float.MIN_NORMAL, Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0xFFC12345), 3.14159265f};

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i - n / 2) * 0.37f;
        }
        return v;
    }

    /** The torch rounding table from expected.json: f32 inputs and torch's BF16 / F16 results. */
    private static float[] roundingInputs(JsonNode rounding) {
        long[] bits = longs(rounding.get("input_f32_bits"));
        float[] values = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            values[i] = Float.intBitsToFloat((int) bits[i]);
        }
        return values;
    }

    @Test
    void f32RoundTripKeepsEveryBit() {
        Path file = dir.resolve("f32.safetensors");
        float[] weight = ramp(6);
        new SafetensorsWriter(DType.F32)
                .add("weight", new long[] {2, 3}, weight)
                .add("specials", new long[] {SPECIALS.length}, SPECIALS)
                .add("scalar", new long[] {}, new float[] {42.5f})
                .add("empty", new long[] {0, 5}, new float[0])
                .metadata("format", "pt")
                .metadata("note", "résumé")
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("weight", "specials", "scalar", "empty"), List.copyOf(f.names()));
            assertEquals(Map.of("format", "pt", "note", "résumé"), f.metadata());
            Tensor w = f.tensor("weight");
            assertEquals(DType.F32, w.dtype());
            assertArrayEquals(new long[] {2, 3}, w.shape());
            assertArrayEquals(weight, w.toFloatArray());
            float[] specials = f.tensor("specials").toFloatArray();
            for (int i = 0; i < SPECIALS.length; i++) {
                assertEquals(Float.floatToRawIntBits(SPECIALS[i]), Float.floatToRawIntBits(specials[i]), "specials[" + i + "]");
            }
            assertEquals(42.5f, f.tensor("scalar").getFloat(0));
            assertEquals(1, f.tensor("scalar").numel());
            assertEquals(0, f.tensor("empty").numel());
            assertArrayEquals(new long[] {0, 5}, f.tensor("empty").shape());
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        float[] in = {
                1.00390625f,                  // 1 + 2^-8: exactly halfway, even neighbour below -> 1.0
                1.01171875f,                  // 1 + 3*2^-8: halfway, even neighbour above -> 1.015625
                1.0f + 0x1p-8f + 0x1p-20f,    // just above halfway -> up to 1.0078125
                1.0f + 0x1p-8f - 0x1p-20f,    // just below halfway -> down to 1.0
                -1.01171875f,                 // ties round the magnitude, sign kept -> -1.015625
                Float.MAX_VALUE,              // above the largest BF16 -> infinity
                3.3895313892515355e38f,       // the largest BF16 itself
                -0f, Float.NaN, Float.intBitsToFloat(0xFF800001), // a NaN whose payload sits in the dropped bits
        };
        float[] want = {1.0f, 1.015625f, 1.0078125f, 1.0f, -1.015625f, Float.POSITIVE_INFINITY,
                3.3895313892515355e38f, -0f};
        Path file = dir.resolve("bf16.safetensors");
        new SafetensorsWriter(DType.BF16).add("x", new long[] {in.length}, in).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Tensor x = f.tensor("x");
            assertEquals(DType.BF16, x.dtype());
            assertEquals(2L * in.length, x.data().byteSize());
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(x.getFloat(i)), "x[" + i + "] from " + in[i]);
            }
            assertTrue(Float.isNaN(x.getFloat(8)));
            assertTrue(Float.isNaN(x.getFloat(9)), "a NaN must not become an infinity");
            assertEquals(0x8000_0000, Float.floatToRawIntBits(x.getFloat(9)) & 0x8000_0000, "NaN keeps its sign");
        }
    }

    @Test
    void bf16AndF16RoundingMatchTorchBitForBit() throws IOException {
        JsonNode rounding = expected().get("rounding");
        float[] in = roundingInputs(rounding);
        long[] torchBf16 = longs(rounding.get("bf16_bits"));
        long[] torchF16 = longs(rounding.get("f16_bits"));
        Path bf16File = dir.resolve("bf16.safetensors");
        Path f16File = dir.resolve("f16.safetensors");
        new SafetensorsWriter(DType.BF16).add("x", new long[] {in.length}, in).write(bf16File);
        new SafetensorsWriter(DType.F16).add("x", new long[] {in.length}, in).write(f16File);
        try (SafetensorsFile bf16 = SafetensorsFile.open(bf16File); SafetensorsFile f16 = SafetensorsFile.open(f16File)) {
            Tensor xb = bf16.tensor("x");
            Tensor xh = f16.tensor("x");
            for (int i = 0; i < in.length; i++) {
                String at = "input " + in[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(in[i])) + ")";
                if (Float.isNaN(in[i])) {
                    // torch canonicalises NaNs; we only promise NaN stays NaN with its sign
                    assertTrue(Float.isNaN(xb.getFloat(i)), at);
                    assertTrue(Float.isNaN(xh.getFloat(i)), at);
                    continue;
                }
                assertEquals(torchBf16[i], storedBits(xb, i), at + " to BF16");
                assertEquals(torchF16[i], storedBits(xh, i), at + " to F16");
            }
        }
    }

    @Test
    void headerIsPaddedWithSpacesToEightBytesAndListsTensorsInInsertionOrder() throws IOException {
        Path file = dir.resolve("layout.safetensors");
        new SafetensorsWriter(DType.BF16)
                .add("b", new long[] {3}, new float[] {1, 2, 3})
                .add("a", new long[] {1}, new float[] {4})
                .metadata("k", "v")
                .write(file);
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8);
        assertEquals(8 + headerLength + 8, bytes.length); // 4 BF16 values follow the header
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        String json = "{\"__metadata__\":{\"k\":\"v\"},\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[6,8]}}";
        assertEquals(json, header.stripTrailing());
        assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '));
    }

    @Test
    void writeReplacesAnExistingFileAndLeavesNoTemporaryFile() throws IOException {
        Path file = dir.resolve("out.safetensors");
        Files.writeString(file, "old contents");
        new SafetensorsWriter(DType.F32).add("x", new long[] {1}, new float[] {7}).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(7f, f.tensor("x").getFloat(0));
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void writeIntoAMissingDirectoryNamesTheFile() {
        Path file = dir.resolve("no/such/dir/out.safetensors");
        expectError(() -> new SafetensorsWriter(DType.F32).add("x", new long[] {1}, new float[] {7}).write(file),
                file.toString(), "cannot write", "no such file or directory");
    }

    private static Tensor renamed(String name, Tensor t) {
        return new Tensor(name, t.dtype(), t.shape(), t.data());
    }

    @Test
    void writeAsStoredCopiesTensorsOfEveryDtypeByteForByte() {
        Path copy = dir.resolve("copy.safetensors");
        try (SafetensorsFile bf16 = SafetensorsFile.open(pythonFixture("bf16.safetensors"));
             SafetensorsFile f16 = SafetensorsFile.open(pythonFixture("f16.safetensors"));
             SafetensorsFile f32 = SafetensorsFile.open(pythonFixture("f32.safetensors"))) {
            List<Tensor> sources = List.of(
                    renamed("bf16.odd", bf16.tensor("odd")),   // 6 bytes: the F32 tensor after it is 2 bytes off alignment
                    renamed("f32.weight", f32.tensor("weight")),
                    renamed("f16.specials", f16.tensor("specials")),
                    renamed("bf16.specials", bf16.tensor("specials")),
                    renamed("f32.scalar", f32.tensor("scalar")));
            SafetensorsWriter.writeAsStored(copy, sources, Map.of("source", "fixtures"));
            try (SafetensorsFile f = SafetensorsFile.open(copy)) {
                assertEquals(sources.stream().map(Tensor::name).toList(), List.copyOf(f.names()));
                assertEquals(Map.of("source", "fixtures"), f.metadata());
                for (Tensor want : sources) {
                    Tensor got = f.tensor(want.name());
                    assertEquals(want.dtype(), got.dtype(), want.name());
                    assertArrayEquals(want.shape(), got.shape(), want.name());
                    assertEquals(-1, want.data().mismatch(got.data()), want.name() + " bytes differ");
                }
                assertArrayEquals(f32.tensor("weight").toFloatArray(), f.tensor("f32.weight").toFloatArray());
                assertEquals(2, f.info("f32.weight").begin() % 4, "the copied F32 tensor should sit unaligned");
            }
        }
    }

    @Test
    void addRefusesBadInput() {
        SafetensorsWriter w = new SafetensorsWriter(DType.F32).add("x", new long[] {2}, new float[2]);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> w.add("y", new long[] {2, 2}, new float[3]))
                .getMessage().contains("tensor 'y'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> w.add("x", new long[] {1}, new float[1]))
                .getMessage().contains("tensor 'x' added twice"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", new long[] {1}, new float[1]))
                .getMessage().contains("reserved"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> w.add("z", new long[] {-1}, new float[0]))
                .getMessage().contains("negative dimension"));
        assertFalse(Files.exists(dir.resolve("never.safetensors")));
    }
}
