package cgap.engine.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static cgap.engine.safetensors.TestFiles.expectError;
import static cgap.engine.safetensors.TestFiles.writeFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** How a model directory is resolved to weight files, and every way that can fail. */
class CheckpointTest {

    @TempDir
    Path dir;

    /** Writes a file holding one F32 tensor of the given values. */
    private Path writeTensor(String fileName, String tensor, float... values) {
        ByteBuffer data = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        String header = "{\"" + tensor + "\":{\"dtype\":\"F32\",\"shape\":[" + values.length
                + "],\"data_offsets\":[0," + 4 * values.length + "]}}";
        return writeFile(dir, fileName, header, data.array());
    }

    private Path writeIndex(String json) throws IOException {
        return Files.writeString(dir.resolve("model.safetensors.index.json"), json);
    }

    @Test
    void singleModelSafetensors() {
        writeTensor("model.safetensors", "w", 1.5f, -2f);
        writeTensor("other.safetensors", "x", 9f); // ignored: model.safetensors takes precedence
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(List.of("w"), List.copyOf(c.names()));
            assertEquals(-2f, c.tensor("w").getFloat(1));
            assertEquals(8, c.totalBytes());
            assertEquals(List.of(dir.resolve("model.safetensors")), c.files());
        }
    }

    @Test
    void theOnlySafetensorsFileWhateverItsName() {
        writeTensor("weights.safetensors", "w", 3f);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(3f, c.tensor("w").getFloat(0));
        }
    }

    @Test
    void indexTakesPrecedenceOverASingleFile() throws IOException {
        writeTensor("model.safetensors", "stale", 0f);
        writeTensor("a.safetensors", "w1", 1f);
        writeTensor("b.safetensors", "w2", 2f, 2f);
        writeIndex("{\"metadata\":{},\"weight_map\":{\"w2\":\"b.safetensors\",\"w1\":\"a.safetensors\"}}");
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(List.of("w2", "w1"), List.copyOf(c.names()));
            assertFalse(c.contains("stale"));
            assertEquals(1f, c.tensor("w1").getFloat(0));
            assertEquals(12, c.totalBytes());
        }
    }

    @Test
    void missingDirectory() {
        Path absent = dir.resolve("nope");
        expectError(() -> Checkpoint.open(absent), absent.toString(), "does not exist");
    }

    @Test
    void fileInsteadOfDirectory() {
        Path file = writeTensor("model.safetensors", "w", 1f);
        expectError(() -> Checkpoint.open(file), file.toString(), "not a directory");
    }

    @Test
    void directoryWithoutWeights() {
        expectError(() -> Checkpoint.open(dir), dir.toString(), "no weights found");
    }

    @Test
    void severalSafetensorsFilesAndNoIndex() {
        writeTensor("a.safetensors", "w1", 1f);
        writeTensor("b.safetensors", "w2", 2f);
        expectError(() -> Checkpoint.open(dir), dir.toString(), "[a.safetensors, b.safetensors]", "no model.safetensors.index.json");
    }

    @Test
    void unknownTensorName() {
        writeTensor("model.safetensors", "w", 1f);
        try (Checkpoint c = Checkpoint.open(dir)) {
            expectError(() -> c.tensor("model.norm.weight"), dir.toString(), "no tensor 'model.norm.weight'");
        }
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        writeTensor("a.safetensors", "w1", 1f);
        Path index = writeIndex("{\"weight_map\":{\"w1\":\"a.safetensors\",\"w2\":\"gone.safetensors\"}}");
        expectError(() -> Checkpoint.open(dir), index.toString(), "gone.safetensors", "tensor 'w2'", "does not exist");
    }

    @Test
    void indexListingATensorItsShardLacks() throws IOException {
        Path shard = writeTensor("a.safetensors", "w1", 1f);
        Path index = writeIndex("{\"weight_map\":{\"w1\":\"a.safetensors\",\"w9\":\"a.safetensors\"}}");
        expectError(() -> Checkpoint.open(dir), index.toString(), shard.toString(), "tensor 'w9'", "no such tensor");
    }

    @Test
    void indexThatIsNotJson() throws IOException {
        Path index = writeIndex("{\"weight_map\": {");
        expectError(() -> Checkpoint.open(dir), index.toString(), "not valid JSON");
    }

    @Test
    void indexWithoutWeightMap() throws IOException {
        Path index = writeIndex("{\"metadata\":{\"total_size\":4}}");
        expectError(() -> Checkpoint.open(dir), index.toString(), "'weight_map' is missing");
    }

    @Test
    void indexWithANonStringShard() throws IOException {
        Path index = writeIndex("{\"weight_map\":{\"w1\":7}}");
        expectError(() -> Checkpoint.open(dir), index.toString(), "tensor 'w1'", "not a file name");
    }

    @Test
    void indexPointingOutsideTheDirectory() throws IOException {
        Path index = writeIndex("{\"weight_map\":{\"w1\":\"../elsewhere.safetensors\"}}");
        expectError(() -> Checkpoint.open(dir), index.toString(), "tensor 'w1'", "outside the checkpoint directory");
    }

    @Test
    void malformedShardIsReportedByItsOwnName() throws IOException {
        Path shard = writeFile(dir, "a.safetensors", "{\"w1\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                new byte[3]);
        writeIndex("{\"weight_map\":{\"w1\":\"a.safetensors\"}}");
        expectError(() -> Checkpoint.open(dir), shard.toString(), "tensor 'w1'", "outside the data section");
    }
}
