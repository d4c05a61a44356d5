package cgap.engine.safetensors;

import cgap.engine.Tensor;
import cgap.kernels.DType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static cgap.engine.safetensors.TestFiles.expectError;
import static cgap.engine.safetensors.TestFiles.pythonFixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files written by Python's safetensors (scripts/gen_safetensors_cases.py) read back exactly:
 * every element's f32 bit pattern equals what torch reports for the same tensor.
 */
class PythonFixturesTest {

    static JsonNode expected() throws IOException {
        return new ObjectMapper().readTree(pythonFixture("expected.json").toFile());
    }

    static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).longValue();
        }
        return out;
    }

    /** The element's bits as stored in the file (16 or 32 of them), read straight from the mapped bytes. */
    static long storedBits(Tensor t, long i) {
        return switch (t.dtype()) {
            case F32 -> t.data().get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 * i) & 0xFFFFFFFFL;
            case F16, BF16 -> t.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 * i) & 0xFFFFL;
        };
    }

    /**
     * Checks a tensor against its expected.json entry: dtype, shape, every element's stored bits,
     * and every element widened to f32 bit-exactly as torch widens it (NaN: only NaN-ness, since
     * torch canonicalises NaN payloads when it widens).
     */
    static void assertMatches(JsonNode want, Tensor got) {
        assertEquals(want.get("dtype").textValue(), got.dtype().name(), got.name());
        assertArrayEquals(longs(want.get("shape")), got.shape(), got.name());
        long[] stored = longs(want.get("stored_bits"));
        long[] widened = longs(want.get("f32_bits"));
        assertEquals(stored.length, got.numel(), got.name());
        float[] all = got.toFloatArray();
        for (int i = 0; i < stored.length; i++) {
            String at = got.name() + "[" + i + "]";
            assertEquals(stored[i], storedBits(got, i), at + " stored bits");
            float wantValue = Float.intBitsToFloat((int) widened[i]);
            if (Float.isNaN(wantValue)) {
                assertTrue(Float.isNaN(got.getFloat(i)), at + " should be NaN");
                assertTrue(Float.isNaN(all[i]), at + " should be NaN via toFloatArray");
            } else {
                assertEquals((int) widened[i], Float.floatToRawIntBits(got.getFloat(i)), at);
                assertEquals((int) widened[i], Float.floatToRawIntBits(all[i]), at + " via toFloatArray");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"f32.safetensors", "f16.safetensors", "bf16.safetensors", "metadata.safetensors"})
    void everyTensorReadsBackBitExact(String fileName) throws IOException {
        JsonNode want = expected().get(fileName);
        try (SafetensorsFile file = SafetensorsFile.open(pythonFixture(fileName))) {
            List<String> wantNames = new ArrayList<>();
            want.get("tensors").fieldNames().forEachRemaining(wantNames::add);
            assertEquals(wantNames.stream().sorted().toList(), file.names().stream().sorted().toList());
            for (String name : wantNames) {
                assertMatches(want.get("tensors").get(name), file.tensor(name));
            }
            Map<String, String> wantMetadata = new LinkedHashMap<>();
            want.get("metadata").properties().forEach(e -> wantMetadata.put(e.getKey(), e.getValue().textValue()));
            assertEquals(wantMetadata, file.metadata());
        }
    }

    @Test
    void namesComeInFileOrderAndShapesAreExposed() {
        try (SafetensorsFile file = SafetensorsFile.open(pythonFixture("bf16.safetensors"))) {
            // the Python writer lays these out alphabetically within a dtype
            assertEquals(List.of("embed", "odd", "specials"), List.copyOf(file.names()));
            Tensor embed = file.tensor("embed");
            assertEquals(DType.BF16, embed.dtype());
            assertEquals(5, embed.dim(0));
            assertEquals(3, embed.dim(1));
            assertEquals("[5, 3]", embed.shapeString());
            assertEquals(new TensorInfo("odd", "BF16", new long[] {3}, 30, 36).toString(), file.info("odd").toString());
        }
    }

    @Test
    void metadataKeepsNonAsciiText() {
        try (SafetensorsFile file = SafetensorsFile.open(pythonFixture("metadata.safetensors"))) {
            assertEquals("héllo wörld ✓", file.metadata().get("note"));
            assertEquals("", file.metadata().get("empty"));
        }
    }

    @Test
    void fileWithIntAndBoolTensorsLoadsAndOnlyTheirAccessFails() throws IOException {
        JsonNode want = expected().get("mixed.safetensors").get("tensors");
        Path path = pythonFixture("mixed.safetensors");
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertMatches(want.get("proj"), file.tensor("proj"));
            assertEquals("I64", file.info("position_ids").dtype());
            assertArrayEquals(new long[] {1, 6}, file.info("position_ids").shape());
            assertEquals(48, file.info("position_ids").byteLength());
            assertEquals(6, file.info("position_ids").numel());
            assertEquals("BOOL", file.info("mask").dtype());
            expectError(() -> file.tensor("position_ids"), path.toString(), "tensor 'position_ids'", "dtype I64");
            expectError(() -> file.tensor("mask"), path.toString(), "tensor 'mask'", "dtype BOOL");
        }
    }

    @Test
    void shardedCheckpointReadsThroughItsIndex() throws IOException {
        JsonNode want = expected().get("sharded");
        Path dir = pythonFixture("sharded");
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            List<String> indexOrder = new ArrayList<>();
            want.get("weight_map").fieldNames().forEachRemaining(indexOrder::add);
            assertEquals(indexOrder, List.copyOf(checkpoint.names()));
            for (String name : indexOrder) {
                assertTrue(checkpoint.contains(name));
                assertMatches(want.get("tensors").get(name), checkpoint.tensor(name));
            }
            assertEquals(want.get("total_size").longValue(), checkpoint.totalBytes());
            assertEquals(List.of(dir.resolve("model-00002-of-00002.safetensors"),
                    dir.resolve("model-00001-of-00002.safetensors")), checkpoint.files());
            assertEquals(dir, checkpoint.dir());
        }
    }
}
