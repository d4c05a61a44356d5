package cgap.models;

import cgap.engine.runtime.Transformer;
import cgap.engine.safetensors.Checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * A Hugging Face model directory, loaded: its config, its family description, and the runnable transformer
 * whose weights stay in the memory-mapped checkpoint. Close it to unmap.
 */
public final class Model implements AutoCloseable {
    private final Path dir;
    private final ModelConfig config;
    private final DecoderSpec spec;
    private final Checkpoint checkpoint;
    private final Transformer transformer;

    private Model(Path dir, ModelConfig config, DecoderSpec spec, Checkpoint checkpoint, Transformer transformer) {
        this.dir = dir;
        this.config = config;
        this.spec = spec;
        this.checkpoint = checkpoint;
        this.transformer = transformer;
    }

    public static Model load(Path dir) {
        ModelConfig config = ModelConfig.read(dir);
        DecoderSpec spec = Families.describe(config);
        Checkpoint checkpoint = Checkpoint.open(dir);
        try {
            return new Model(dir, config, spec, checkpoint, DecoderBuilder.build(spec, checkpoint));
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    public Path dir() { return dir; }

    public ModelConfig config() { return config; }

    public DecoderSpec spec() { return spec; }

    public Checkpoint checkpoint() { return checkpoint; }

    public Transformer transformer() { return transformer; }

    /**
     * End-of-sequence ids: generation_config.json's eos_token_id (a number or a list) if present, else
     * config.json's (the top level, or text_config for multimodal checkpoints).
     */
    public Set<Integer> eosIds() {
        Path gen = dir.resolve("generation_config.json");
        if (Files.isRegularFile(gen)) {
            Set<Integer> ids = ids(ModelConfig.read(dir, "generation_config.json").node("eos_token_id"));
            if (!ids.isEmpty()) return ids;
        }
        Set<Integer> ids = ids(config.node("eos_token_id"));
        if (ids.isEmpty() && config.node("text_config") != null) ids = ids(config.node("text_config").get("eos_token_id"));
        return ids;
    }

    private static Set<Integer> ids(JsonNode n) {
        Set<Integer> ids = new TreeSet<>();
        if (n == null || n.isNull()) return ids;
        if (n.isInt()) ids.add(n.asInt());
        else if (n.isArray()) n.forEach(e -> ids.add(e.asInt()));
        return ids;
    }

    @Override
    public void close() { checkpoint.close(); }
}
