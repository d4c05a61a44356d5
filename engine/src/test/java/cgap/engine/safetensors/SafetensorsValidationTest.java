package cgap.engine.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static cgap.engine.safetensors.TestFiles.expectError;
import static cgap.engine.safetensors.TestFiles.expectOpenError;
import static cgap.engine.safetensors.TestFiles.rawFile;
import static cgap.engine.safetensors.TestFiles.writeBytes;
import static cgap.engine.safetensors.TestFiles.writeFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One malformed file per rule of the format; each must be refused with a message naming the file and the fault. */
class SafetensorsValidationTest {

    @TempDir
    Path dir;

    private static final String ONE_F32 = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    private static byte[] zeros(int n) {
        return new byte[n];
    }

    @Test
    void wellFormedFileOpens() {
        Path file = writeFile(dir, "ok.safetensors", ONE_F32, zeros(8));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("w"), List.copyOf(f.names()));
        }
    }

    @Test
    void emptyHeaderAndNoDataIsAValidEmptyFile() {
        try (SafetensorsFile f = SafetensorsFile.open(writeFile(dir, "empty.safetensors", "{}", zeros(0)))) {
            assertEquals(0, f.names().size());
            assertEquals(Map.of(), f.metadata());
        }
    }

    @Test
    void headerPaddedWithSpacesOpens() {
        Path file = writeFile(dir, "padded.safetensors", ONE_F32 + "       ", zeros(8));
        SafetensorsFile.open(file).close();
    }

    @Test
    void zeroLengthTensorsMayShareAnOffset() {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"c\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
        try (SafetensorsFile f = SafetensorsFile.open(writeFile(dir, "zero.safetensors", header, zeros(2)))) {
            assertEquals(0, f.tensor("a").numel());
            assertEquals(1, f.tensor("c").numel());
        }
    }

    @Test
    void emptyFileIsTooShort() {
        expectOpenError(writeBytes(dir, "empty.safetensors", zeros(0)), "too short");
    }

    @Test
    void fileShorterThanEightBytesIsTooShort() {
        expectOpenError(writeBytes(dir, "short.safetensors", zeros(7)), "7 bytes", "too short");
    }

    @Test
    void headerLengthOverTheLimit() {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Path file = writeBytes(dir, "big.safetensors", rawFile(100_000_001L, header, zeros(0)));
        expectOpenError(file, "header length 100000001", "limit");
    }

    @Test
    void headerLengthWithTopBitSetIsReadUnsigned() {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Path file = writeBytes(dir, "huge.safetensors", rawFile(-1L, header, zeros(0)));
        expectOpenError(file, "header length 18446744073709551615", "limit");
    }

    @Test
    void headerRunningPastTheEndOfTheFile() {
        byte[] header = ONE_F32.getBytes(StandardCharsets.UTF_8);
        Path file = writeBytes(dir, "cut.safetensors", rawFile(header.length + 20, header, zeros(8)));
        expectOpenError(file, "header length " + (header.length + 20), "past the end");
    }

    @Test
    void headerIsNotUtf8() {
        byte[] header = "{\"w?(\":{}}".getBytes(StandardCharsets.US_ASCII);
        header[3] = (byte) 0xC3; // a two-byte lead followed by '(' is malformed UTF-8
        Path file = writeBytes(dir, "utf8.safetensors", rawFile(header.length, header, zeros(0)));
        expectOpenError(file, "not valid UTF-8", "offset 3");
    }

    @Test
    void headerIsNotJson() {
        expectOpenError(writeFile(dir, "nojson.safetensors", "{not json", zeros(0)), "header is not valid JSON");
    }

    @Test
    void headerWithTextAfterTheObject() {
        expectOpenError(writeFile(dir, "trail.safetensors", "{} {}", zeros(0)), "header is not valid JSON");
    }

    @Test
    void headerIsAJsonArray() {
        expectOpenError(writeFile(dir, "array.safetensors", "[1, 2]", zeros(0)), "header is not a JSON object");
    }

    @Test
    void emptyHeader() {
        expectOpenError(writeFile(dir, "nohdr.safetensors", "", zeros(0)), "header is not a JSON object");
    }

    @Test
    void entryIsNotAnObject() {
        expectOpenError(writeFile(dir, "entry.safetensors", "{\"w\": 5}", zeros(0)), "tensor 'w'", "not a JSON object");
    }

    @Test
    void missingDtype() {
        String header = "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "nodtype.safetensors", header, zeros(8)), "tensor 'w'", "missing 'dtype'");
    }

    @Test
    void missingShape() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "noshape.safetensors", header, zeros(8)), "tensor 'w'", "missing 'shape'");
    }

    @Test
    void missingDataOffsets() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}";
        expectOpenError(writeFile(dir, "nooffsets.safetensors", header, zeros(8)), "tensor 'w'", "missing 'data_offsets'");
    }

    @Test
    void unknownDtype() {
        String header = "{\"w\":{\"dtype\":\"F128\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "dtype.safetensors", header, zeros(8)), "tensor 'w'", "unknown dtype", "F128");
    }

    @Test
    void dtypeThatIsNotAString() {
        String header = "{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "dtype4.safetensors", header, zeros(8)), "tensor 'w'", "unknown dtype 4");
    }

    @Test
    void shapeThatIsNotAnArray() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "shape.safetensors", header, zeros(8)), "tensor 'w'", "'shape' is not an array");
    }

    @Test
    void shapeWithANegativeNumber() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "neg.safetensors", header, zeros(8)), "tensor 'w'", "'shape' element 1 is negative");
    }

    @Test
    void shapeWithAFraction() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "frac.safetensors", header, zeros(8)), "tensor 'w'", "'shape' element 0", "not an integer");
    }

    @Test
    void shapeWhoseByteSizeOverflows() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "overflow.safetensors", header, zeros(8)), "tensor 'w'", "overflows");
    }

    @Test
    void subByteDtypeThatIsNotAWholeNumberOfBytes() {
        String header = "{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}";
        expectOpenError(writeFile(dir, "f4.safetensors", header, zeros(2)), "tensor 'w'", "not a whole number of bytes");
    }

    @Test
    void dataOffsetsWithOneNumber() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}";
        expectOpenError(writeFile(dir, "arity.safetensors", header, zeros(8)), "tensor 'w'", "'data_offsets' is not an array [begin, end]");
    }

    @Test
    void dataOffsetsEndingBeforeTheyBegin() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}";
        expectOpenError(writeFile(dir, "backwards.safetensors", header, zeros(8)), "tensor 'w'", "[8, 0]", "ends before it begins");
    }

    @Test
    void negativeDataOffset() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}";
        expectOpenError(writeFile(dir, "negoff.safetensors", header, zeros(8)), "tensor 'w'", "begin is negative");
    }

    @Test
    void dataOffsetsOutsideTheDataSection() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        expectOpenError(writeFile(dir, "outside.safetensors", header, zeros(8)), "tensor 'w'", "[0, 16]",
                "outside the data section (8 bytes)");
    }

    @Test
    void gapBetweenTensors() {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        expectOpenError(writeFile(dir, "gap.safetensors", header, zeros(12)), "tensor 'b'", "gap of 4 unused bytes");
    }

    @Test
    void gapBeforeTheFirstTensor() {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        expectOpenError(writeFile(dir, "lead.safetensors", header, zeros(8)), "tensor 'a'", "gap of 4 unused bytes");
    }

    @Test
    void overlappingTensors() {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        expectOpenError(writeFile(dir, "overlap.safetensors", header, zeros(12)), "tensor 'b'", "overlap tensor 'a'");
    }

    @Test
    void byteLengthDisagreeingWithShapeAndDtype() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        expectOpenError(writeFile(dir, "length.safetensors", header, zeros(8)), "tensor 'w'", "hold 8 bytes",
                "F32 [3] needs 12");
    }

    @Test
    void duplicateTensorNames() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        expectOpenError(writeFile(dir, "dup.safetensors", header, zeros(8)), "header is not valid JSON", "Duplicate field 'w'");
    }

    @Test
    void metadataWithANonStringValue() {
        String header = "{\"__metadata__\":{\"format\":\"pt\",\"step\":3}," + ONE_F32.substring(1);
        expectOpenError(writeFile(dir, "meta.safetensors", header, zeros(8)), "__metadata__ key 'step'", "non-string value");
    }

    @Test
    void metadataThatIsNotAnObject() {
        String header = "{\"__metadata__\":[\"pt\"]," + ONE_F32.substring(1);
        expectOpenError(writeFile(dir, "metaarr.safetensors", header, zeros(8)), "__metadata__ is not a JSON object");
    }

    @Test
    void trailingBytesAfterTheLastTensor() {
        expectOpenError(writeFile(dir, "trailing.safetensors", ONE_F32, zeros(12)), "4 trailing bytes");
    }

    @Test
    void missingFile() {
        expectOpenError(dir.resolve("absent.safetensors"), "no such file");
    }

    @Test
    void directoryInsteadOfFile() {
        expectOpenError(dir, "not a regular file");
    }

    @Test
    void unknownTensorName() {
        Path file = writeFile(dir, "ok.safetensors", ONE_F32, zeros(8));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            expectError(() -> f.tensor("v"), file.toString(), "no tensor 'v'");
        }
    }

    @Test
    void tensorOfADtypeTheEngineCannotRead() {
        String header = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}";
        Path file = writeFile(dir, "ints.safetensors", header, zeros(20));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals("I64", f.info("ids").dtype());
            expectError(() -> f.tensor("ids"), file.toString(), "tensor 'ids'", "dtype I64");
            assertEquals(0f, f.tensor("w").getFloat(0));
        }
    }

    @Test
    void everyTruncationOfAValidFileIsRefused() throws IOException {
        byte[] whole = Files.readAllBytes(TestFiles.pythonFixture("metadata.safetensors"));
        for (int length = 0; length < whole.length; length++) {
            Path cut = writeBytes(dir, "cut.safetensors", Arrays.copyOf(whole, length));
            expectOpenError(cut);
        }
    }

    /**
     * Seeded random corruption of a real file: each damaged copy either opens and reads cleanly or
     * is refused with a SafetensorsException; nothing else (no other exception type, no crash).
     */
    @Test
    void randomCorruptionNeverEscapesAsAnotherException() throws IOException {
        final int TRIALS = 400; // each costs a map and an unmap of a shared arena (a few ms)
        byte[] whole = Files.readAllBytes(TestFiles.pythonFixture("bf16.safetensors"));
        Random random = new Random(20261125);
        int opened = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            byte[] damaged = whole.clone();
            int flips = 1 + random.nextInt(3);
            for (int k = 0; k < flips; k++) {
                // mostly in the length and header, where the parsing is
                int at = random.nextInt(10) < 8 ? random.nextInt(Math.min(whole.length, 200)) : random.nextInt(whole.length);
                damaged[at] = (byte) random.nextInt(256);
            }
            Path file = writeBytes(dir, "damaged.safetensors", damaged);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (String name : f.names()) {
                    String dtype = f.info(name).dtype();
                    if (dtype.equals("F32") || dtype.equals("F16") || dtype.equals("BF16")) {
                        f.tensor(name).toFloatArray();
                    }
                }
                opened++;
            } catch (SafetensorsException expected) {
                assertTrue(expected.getMessage().startsWith(file.toString()), expected.getMessage());
            }
        }
        assertTrue(opened > 0 && opened < TRIALS, "corruption should sometimes be harmless, sometimes fatal: " + opened);
    }

    @Test
    void tensorAfterClose() {
        Path file = writeFile(dir, "ok.safetensors", ONE_F32, zeros(8));
        SafetensorsFile f = SafetensorsFile.open(file);
        f.close();
        expectError(() -> f.tensor("w"), file.toString(), "tensor 'w'", "closed");
    }

    /** Weights are handed out as plain native segments (see SafetensorsFile.nativeView): bounds and liveness still hold. */
    @Test
    void tensorDataKeepsItsBoundsAndDiesWithTheFile() {
        byte[] data = new byte[8];
        java.nio.ByteBuffer.wrap(data).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f);
        Path file = writeFile(dir, "ok.safetensors", ONE_F32, data);
        SafetensorsFile f = SafetensorsFile.open(file);
        java.lang.foreign.MemorySegment w = f.tensor("w").data();
        java.lang.foreign.ValueLayout.OfFloat le = java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(-2f, w.get(le, 4));
        assertEquals(8, w.byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> w.get(le, 8));
        f.close();
        assertThrows(IllegalStateException.class, () -> w.get(le, 0));
    }
}
