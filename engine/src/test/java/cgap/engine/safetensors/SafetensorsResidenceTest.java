package cgap.engine.safetensors;

import cgap.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static cgap.engine.safetensors.TestFiles.writeFile;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weights copied into memory (-Dcgap.weights=memory) read exactly as the mapped file does. */
class SafetensorsResidenceTest {

    @TempDir
    Path dir;

    @Test
    void aCopyInMemoryHoldsTheMappedBytesAtTheSameCacheLineOffsets() {
        byte[] data = new byte[200];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 37 + 11);
        // A 130-byte header puts the data section 138 bytes into the file: 10 past a cache line, not on one.
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[88],\"data_offsets\":[24,200]}}";
        header = header + " ".repeat(130 - header.length());
        Path file = writeFile(dir, "m.safetensors", header, data);
        try (SafetensorsFile mapped = SafetensorsFile.open(file, SafetensorsFile.Residence.MAPPED);
             SafetensorsFile copied = SafetensorsFile.open(file, SafetensorsFile.Residence.MEMORY)) {
            for (String name : mapped.names()) {
                Tensor m = mapped.tensor(name), c = copied.tensor(name);
                assertArrayEquals(m.data().toArray(ValueLayout.JAVA_BYTE), c.data().toArray(ValueLayout.JAVA_BYTE), name);
                assertEquals(m.data().address() % 64, c.data().address() % 64, name);
                assertArrayEquals(m.shape(), c.shape(), name);
            }
            assertEquals(138 % 64, mapped.tensor("a").data().address() % 64);
            assertEquals((138 + 24) % 64, copied.tensor("b").data().address() % 64);
        }
    }

    /** A tensor is read when first asked for, so one never asked for (a vision tower) is never read. */
    @Test
    void tensorsAreReadWhenFirstAskedFor() throws Exception {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f);
        Path file = writeFile(dir, "lazy.safetensors", header, data.array());
        try (SafetensorsFile copied = SafetensorsFile.open(file, SafetensorsFile.Residence.MEMORY)) {
            assertEquals(1f, copied.tensor("a").getFloat(0));
            // Rewrite both values on disk: a, already read, keeps its copy; b, not yet read, comes from the file as it is now.
            byte[] bytes = Files.readAllBytes(file);
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putFloat(8 + header.length(), 5f).putFloat(12 + header.length(), 7f);
            Files.write(file, bytes);
            assertEquals(1f, copied.tensor("a").getFloat(0));
            assertEquals(7f, copied.tensor("b").getFloat(0));
        }
    }

    @Test
    void theSystemPropertyNamesTheResidence() {
        String before = System.getProperty("cgap.weights");
        try {
            System.clearProperty("cgap.weights");
            assertEquals(SafetensorsFile.Residence.MAPPED, SafetensorsFile.Residence.fromSystemProperty());
            System.setProperty("cgap.weights", "memory");
            assertEquals(SafetensorsFile.Residence.MEMORY, SafetensorsFile.Residence.fromSystemProperty());
            System.setProperty("cgap.weights", "ram");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, SafetensorsFile.Residence::fromSystemProperty);
            assertTrue(e.getMessage().contains("'mapped' or 'memory', got 'ram'"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty("cgap.weights");
            else System.setProperty("cgap.weights", before);
        }
    }
}
