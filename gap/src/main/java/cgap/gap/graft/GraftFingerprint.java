package cgap.gap.graft;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Hashes of what a graft run's per-prompt results depend on, so a rerun into the same directory can tell whether it
 * continues the same run. A model is hashed by its config, tokenizer and generation files, its safetensors headers
 * and sizes, and the first and last MiB of each weights file: a PT checkpoint and its IT sibling often have the
 * same headers, and hashing gigabytes would take longer than many runs.
 */
public final class GraftFingerprint {
    private GraftFingerprint() {}

    private static final List<String> MODEL_FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "chat_template.jinja", "model.safetensors.index.json");
    private static final int SAMPLE_BYTES = 1 << 20;

    public static String model(Path dir) {
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
                    sha.update(read(ch, 0, SAMPLE_BYTES));
                    sha.update(read(ch, Math.max(0, size - SAMPLE_BYTES), SAMPLE_BYTES));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model directory " + dir, e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    public static String file(Path file) {
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

    private static ByteBuffer read(FileChannel ch, long position, int max) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(max, ch.size() - position));
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
