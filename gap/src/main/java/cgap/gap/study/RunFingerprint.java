package cgap.gap.study;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a study's results depend on, hashed, so that a rerun into the same output directory can tell whether it
 * continues the same run. A model is hashed by its config, tokenizer and generation files, the headers and sizes
 * of its safetensors files (the tensor names, shapes, dtypes and offsets) and the first and last MiB of each
 * weights file: a PT checkpoint and its IT sibling often have identical headers, and hashing gigabytes of weights
 * would take longer than many runs. The prompt file is hashed by its bytes; the arguments by their values.
 * {@link #hashModel} and {@link #hashFile} also fingerprint graft runs.
 */
public record RunFingerprint(String pt, String it, String prompts, Map<String, String> arguments) {
    private static final List<String> MODEL_FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "chat_template.jinja", "model.safetensors.index.json");
    private static final int SAMPLE_BYTES = 1 << 20;

    public static RunFingerprint of(StudyOptions o) {
        Map<String, String> args = new TreeMap<>();
        args.put("max_new_tokens", Integer.toString(o.maxNewTokens()));
        args.put("limit", Integer.toString(o.limit()));
        args.put("seed", Long.toString(o.seed()));
        args.put("pt_format", o.ptFormat());
        args.put("it_format", o.itFormat());
        args.put("bootstrap", Integer.toString(o.bootstrapSamples()));
        args.put("replay", Boolean.toString(o.replay()));
        return new RunFingerprint(hashModel(o.ptDir()), hashModel(o.itDir()), hashFile(o.promptsFile()), args);
    }

    /** What differs from {@code earlier}, in words; empty when the runs are the same. */
    public List<String> differences(RunFingerprint earlier) {
        List<String> out = new java.util.ArrayList<>();
        if (!pt.equals(earlier.pt)) out.add("the PT model (config, tokenizer or weights) changed");
        if (!it.equals(earlier.it)) out.add("the IT model (config, tokenizer or weights) changed");
        if (!prompts.equals(earlier.prompts)) out.add("the prompt file changed");
        for (String key : new java.util.TreeSet<>(earlier.arguments.keySet())) {
            String before = earlier.arguments.get(key), now = arguments.get(key);
            if (!before.equals(now)) out.add("--" + key.replace('_', '-') + " was " + before + ", now " + now);
        }
        return out;
    }

    public ObjectNode toJson(ObjectMapper json) {
        ObjectNode node = json.createObjectNode();
        node.put("pt", pt);
        node.put("it", it);
        node.put("prompts", prompts);
        ObjectNode a = node.putObject("arguments");
        arguments.forEach(a::put);
        return node;
    }

    public static RunFingerprint fromJson(com.fasterxml.jackson.databind.JsonNode node) {
        Map<String, String> args = new TreeMap<>();
        node.get("arguments").properties().forEach(e -> args.put(e.getKey(), e.getValue().asText()));
        return new RunFingerprint(node.get("pt").asText(), node.get("it").asText(), node.get("prompts").asText(), args);
    }

    /** Hash of a model directory: its small files, safetensors headers and sizes, and each weights file's ends. */
    public static String hashModel(Path dir) {
        MessageDigest sha = sha256();
        try {
            for (String name : MODEL_FILES) {
                Path f = dir.resolve(name);
                if (Files.isRegularFile(f)) {
                    sha.update(name.getBytes());
                    sha.update(Files.readAllBytes(f));
                }
            }
            List<Path> weights;
            try (Stream<Path> files = Files.list(dir)) {
                weights = files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            }
            for (Path f : weights) {
                sha.update(f.getFileName().toString().getBytes());
                try (FileChannel ch = FileChannel.open(f)) {
                    long size = ch.size();
                    sha.update(Long.toString(size).getBytes());
                    if (size < 8) throw new IllegalArgumentException(f + ": not a safetensors file");
                    long headerLength = read(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    if (headerLength < 0 || headerLength > size - 8) throw new IllegalArgumentException(f + ": not a safetensors file");
                    sha.update(read(ch, 8, (int) headerLength));
                    sha.update(read(ch, 0, SAMPLE_BYTES));
                    sha.update(read(ch, Math.max(0, size - SAMPLE_BYTES), SAMPLE_BYTES));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model directory " + dir, e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Hash of a file's bytes. */
    public static String hashFile(Path file) {
        MessageDigest sha = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) sha.update(buf, 0, n);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Up to {@code max} bytes from {@code position}, fewer where the file ends. */
    private static ByteBuffer read(FileChannel ch, long position, int max) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.max(0, Math.min(max, ch.size() - position)));
        while (buf.hasRemaining() && ch.read(buf, position + buf.position()) > 0) { /* keep reading */ }
        return buf.flip();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
