package cgap.engine.safetensors;

import cgap.engine.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static cgap.engine.safetensors.SafetensorsHeader.oneLine;

/**
 * The weights of a model directory, single-file or sharded, behind one name lookup.
 *
 * <p>Which files hold the weights: {@code model.safetensors.index.json} if present (its
 * {@code weight_map} sends each tensor name to a shard file in the directory), else
 * {@code model.safetensors}, else the directory's only {@code *.safetensors} file. Every shard is
 * mapped and validated at open, and every tensor the index lists is checked to be in its shard.
 */
public final class Checkpoint implements AutoCloseable {

    static final String INDEX_FILE = "model.safetensors.index.json";
    static final String SINGLE_FILE = "model.safetensors";
    /** Real indexes are a few MB at most; the bound keeps a hostile one from costing memory. */
    static final long MAX_INDEX_BYTES = SafetensorsHeader.MAX_HEADER_BYTES;

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> fileOfTensor; // in index (or file) order

    private Checkpoint(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> fileOfTensor) {
        this.dir = dir;
        this.files = List.copyOf(files);
        this.fileOfTensor = Collections.unmodifiableMap(fileOfTensor);
    }

    public static Checkpoint open(Path dir) {
        if (!Files.exists(dir)) {
            throw new SafetensorsException(dir + ": checkpoint directory does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new SafetensorsException(dir + ": not a directory (a checkpoint is a model directory)");
        }
        Path index = dir.resolve(INDEX_FILE);
        if (Files.exists(index)) {
            return openSharded(dir, index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (!Files.exists(single)) {
            single = onlySafetensorsFile(dir);
        }
        SafetensorsFile file = SafetensorsFile.open(single);
        Map<String, SafetensorsFile> fileOfTensor = new LinkedHashMap<>();
        for (String name : file.names()) {
            fileOfTensor.put(name, file);
        }
        return new Checkpoint(dir, List.of(file), fileOfTensor);
    }

    private static Path onlySafetensorsFile(Path dir) {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.safetensors")) {
            stream.forEach(found::add);
        } catch (IOException e) {
            throw new SafetensorsException(dir + ": cannot list directory: " + SafetensorsException.describe(e), e);
        }
        if (found.isEmpty()) {
            throw new SafetensorsException(dir + ": no weights found (no " + INDEX_FILE + ", no " + SINGLE_FILE
                    + ", no other *.safetensors file)");
        }
        if (found.size() > 1) {
            List<String> names = found.stream().map(p -> p.getFileName().toString()).sorted().toList();
            throw new SafetensorsException(dir + ": several *.safetensors files " + names + " and no " + INDEX_FILE
                    + " to say which hold the model");
        }
        return found.getFirst();
    }

    private static Checkpoint openSharded(Path dir, Path index) {
        Map<String, String> shardOfTensor = readWeightMap(index);
        Map<String, SafetensorsFile> openShards = new LinkedHashMap<>();
        try {
            Map<String, SafetensorsFile> fileOfTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : shardOfTensor.entrySet()) {
                String tensor = e.getKey();
                String shardName = e.getValue();
                SafetensorsFile shard = openShards.get(shardName);
                if (shard == null) {
                    shard = SafetensorsFile.open(resolveShard(dir, index, tensor, shardName));
                    openShards.put(shardName, shard);
                }
                if (!shard.contains(tensor)) {
                    throw new SafetensorsException(index + ": tensor '" + oneLine(tensor) + "' is mapped to shard "
                            + shard.path() + ", which has no such tensor");
                }
                fileOfTensor.put(tensor, shard);
            }
            return new Checkpoint(dir, new ArrayList<>(openShards.values()), fileOfTensor);
        } catch (RuntimeException e) {
            openShards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The index's weight_map: tensor name to shard file name, in the index's order. */
    private static Map<String, String> readWeightMap(Path index) {
        String text;
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw new SafetensorsException(index + ": " + size + " bytes is larger than the "
                        + MAX_INDEX_BYTES + "-byte limit for an index");
            }
            byte[] bytes = Files.readAllBytes(index);
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(index + ": not valid UTF-8", e);
        } catch (IOException e) {
            throw new SafetensorsException(index + ": cannot read: " + SafetensorsException.describe(e), e);
        }
        JsonNode root = SafetensorsHeader.readJson(index, "index", text);
        if (!root.isObject()) {
            throw new SafetensorsException(index + ": not a JSON object");
        }
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new SafetensorsException(index + ": 'weight_map' is missing or not a JSON object");
        }
        Map<String, String> shardOfTensor = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(index + ": weight_map entry for tensor '" + oneLine(e.getKey())
                        + "' is not a file name string");
            }
            shardOfTensor.put(e.getKey(), e.getValue().textValue());
        }
        return shardOfTensor;
    }

    /** A shard must be a file inside the checkpoint directory: an index cannot point elsewhere. */
    private static Path resolveShard(Path dir, Path index, String tensor, String shardName) {
        Path home = dir.toAbsolutePath().normalize();
        Path shard;
        try {
            shard = home.resolve(shardName).normalize();
        } catch (InvalidPathException e) {
            throw new SafetensorsException(index + ": shard '" + oneLine(shardName) + "' (for tensor '"
                    + oneLine(tensor) + "') is not a valid file name");
        }
        if (!shard.startsWith(home) || shard.equals(home)) {
            throw new SafetensorsException(index + ": shard '" + oneLine(shardName) + "' (for tensor '"
                    + oneLine(tensor) + "') lies outside the checkpoint directory");
        }
        if (!Files.exists(shard)) {
            throw new SafetensorsException(index + ": shard " + shard + " (for tensor '" + oneLine(tensor)
                    + "') does not exist");
        }
        return shard;
    }

    public Path dir() {
        return dir;
    }

    /** The weight files, in the order the index first names them. */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    /** Tensor names in index order (or file order for a single file). */
    public Set<String> names() {
        return fileOfTensor.keySet();
    }

    public boolean contains(String name) {
        return fileOfTensor.containsKey(name);
    }

    /** The header entry of {@code name}, for any dtype. */
    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    /** Tensor {@code name}, a view of its mapped bytes (F32, F16 or BF16 only; see {@link SafetensorsFile#tensor}). */
    public Tensor tensor(String name) {
        return fileOf(name).tensor(name);
    }

    /** Total bytes of all the checkpoint's tensors (what a fully paged-in model occupies). */
    public long totalBytes() {
        long total = 0;
        for (Map.Entry<String, SafetensorsFile> e : fileOfTensor.entrySet()) {
            total += e.getValue().info(e.getKey()).byteLength();
        }
        return total;
    }

    private SafetensorsFile fileOf(String name) {
        SafetensorsFile file = fileOfTensor.get(name);
        if (file == null) {
            throw new SafetensorsException(dir + ": checkpoint has no tensor '" + oneLine(name) + "'");
        }
        return file;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "Checkpoint[" + dir + ", " + fileOfTensor.size() + " tensors in " + files.size() + " file(s)]";
    }
}
