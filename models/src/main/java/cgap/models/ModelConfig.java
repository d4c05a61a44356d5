package cgap.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * A model's config.json, read leniently across the two dialects real checkpoints use (legacy hub keys and
 * transformers 5 keys) and strictly about types: a key of the wrong type is an error naming the file and key.
 * For multimodal checkpoints {@link #textConfig()} gives the text part with the top-level keys underneath.
 */
public final class ModelConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final JsonNode root;

    private ModelConfig(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    public static ModelConfig read(Path dir) { return read(dir, "config.json"); }

    /** Reads a JSON file of a model directory (config.json, generation_config.json). */
    public static ModelConfig read(Path dir, String name) {
        Path file = dir.resolve(name);
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model directory not found: " + dir);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no " + name + " in " + dir);
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
            return new ModelConfig(file, root);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": malformed JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    public static ModelConfig of(Path file, JsonNode root) { return new ModelConfig(file, root); }

    public Path file() { return file; }

    public JsonNode json() { return root; }

    /** architectures[0], e.g. LlamaForCausalLM. */
    public String architecture() {
        JsonNode a = root.get("architectures");
        if (a == null || !a.isArray() || a.isEmpty() || !a.get(0).isTextual()) {
            throw new IllegalArgumentException(file + ": missing key 'architectures'");
        }
        return a.get(0).asText();
    }

    public boolean has(String key) { return root.hasNonNull(key); }

    public JsonNode node(String key) { return root.get(key); }

    /**
     * The text model's config of a multimodal checkpoint: {@code text_config} overlaid on nothing else, with
     * the defaults given; or this config itself when there is no text_config.
     */
    public ModelConfig textConfig(Map<String, Object> defaults) {
        JsonNode text = root.get("text_config");
        if (text == null || !text.isObject()) return this;
        ObjectNode merged = JSON.createObjectNode();
        defaults.forEach((k, v) -> merged.set(k, JSON.valueToTree(v)));
        for (Iterator<Map.Entry<String, JsonNode>> it = text.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            merged.set(e.getKey(), e.getValue());
        }
        if (root.has("architectures")) merged.set("architectures", root.get("architectures"));
        // The top-level dtype decides for multimodal checkpoints.
        String dtype = dtypeName();
        if (dtype != null) merged.put("torch_dtype", dtype);
        return new ModelConfig(file, merged);
    }

    public int integer(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException(file + ": missing key '" + key + "'");
        if (!n.canConvertToInt() || !n.isIntegralNumber()) throw new IllegalArgumentException(file + ": key '" + key + "' must be an integer, found " + n);
        return n.asInt();
    }

    public int integer(String key, int fallback) { return has(key) ? integer(key) : fallback; }

    public double number(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException(file + ": missing key '" + key + "'");
        if (!n.isNumber()) throw new IllegalArgumentException(file + ": key '" + key + "' must be a number, found " + n);
        return n.asDouble();
    }

    public double number(String key, double fallback) { return has(key) ? number(key) : fallback; }

    public boolean bool(String key, boolean fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return fallback;
        if (!n.isBoolean()) throw new IllegalArgumentException(file + ": key '" + key + "' must be true or false, found " + n);
        return n.asBoolean();
    }

    public String text(String key, String fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return fallback;
        if (!n.isTextual()) throw new IllegalArgumentException(file + ": key '" + key + "' must be a string, found " + n);
        return n.asText();
    }

    /** torch_dtype (legacy) or dtype (transformers 5), e.g. "bfloat16"; null when absent. */
    public String dtypeName() {
        String legacy = text("torch_dtype", null);
        return legacy != null ? legacy : text("dtype", null);
    }

    /** Number from a nested object, e.g. rope parameters; error names the path. */
    public double number(JsonNode obj, String path, String key, double fallback) {
        JsonNode n = obj == null ? null : obj.get(key);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber()) throw new IllegalArgumentException(file + ": key '" + path + "." + key + "' must be a number, found " + n);
        return n.asDouble();
    }

    @Override
    public String toString() { return file.toString(); }
}
