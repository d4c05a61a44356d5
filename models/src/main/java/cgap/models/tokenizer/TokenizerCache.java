package cgap.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A binary copy of a parsed tokenizer.json (merges already resolved to ids), so that loading the same file
 * again skips the JSON parse and the merge lookups, most of a cold load. Entries live in {@code ~/.cache/cgap/tokenizers} (or {@code -Dcgap.cache.dir}), named by the
 * source file's length and CRC32C, so an edited file never meets a stale entry. Best effort: an entry that
 * cannot be written or read is ignored and the JSON is parsed; writes go to a temporary file renamed into
 * place, so a crash never leaves half an entry. {@code -Dcgap.tokenizer.cache=false} turns it off.
 */
final class TokenizerCache {
    private TokenizerCache() {}

    private static final int MAGIC = 0x4347544B; // "CGTK"
    private static final int VERSION = 1;

    static boolean enabled() {
        return !"false".equals(System.getProperty("cgap.tokenizer.cache"));
    }

    static Path root() {
        String dir = System.getProperty("cgap.cache.dir");
        Path base = dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "cgap");
        return base.resolve("tokenizers");
    }

    /** The entry for tokenizer.json's current bytes. */
    static Path entryFor(Path tokenizerJson) throws IOException {
        try (FileChannel channel = FileChannel.open(tokenizerJson)) {
            long size = channel.size();
            CRC32C crc = new CRC32C();
            crc.update(channel.map(FileChannel.MapMode.READ_ONLY, 0, size));
            return root().resolve(String.format(Locale.ROOT, "%d-%08x.v%d.bin", size, crc.getValue(), VERSION));
        }
    }

    /** The parsed file from its entry, or null when there is none or it cannot be read. */
    static TokenizerFiles.Parsed read(Path entry) {
        if (!Files.isRegularFile(entry)) return null;
        try {
            ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(entry));
            if (in.getInt() != MAGIC || in.getInt() != VERSION) return null;
            Map<String, JsonNode> sections = readJsonMap(in);
            Map<String, JsonNode> modelOptions = readJsonMap(in);
            Vocabulary vocab = null;
            if (in.get() == 1) {
                int n = in.getInt();
                if (n < 0 || n > in.remaining() / 8) return null; // an entry is at least an id and a length
                vocab = new Vocabulary(n);
                for (int i = 0; i < n; i++) {
                    int id = in.getInt();
                    vocab.put(readString(in), id);
                }
            }
            int[] merges = null;
            if (in.get() == 1) {
                int n = in.getInt();
                if (n < 0 || n > in.remaining() / Integer.BYTES) return null;
                merges = new int[n];
                in.asIntBuffer().get(merges);
                in.position(in.position() + merges.length * Integer.BYTES);
            }
            if (in.hasRemaining()) return null;
            return new TokenizerFiles.Parsed(sections, vocab, merges, modelOptions);
        } catch (IOException | RuntimeException e) {
            return null; // unreadable or truncated by something else: parse the JSON instead
        }
    }

    /** Writes the entry; failures (read-only home, full disk) only cost the next load its speed-up. */
    static void write(Path entry, TokenizerFiles.Parsed parsed) {
        Path tmp = null;
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 20);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            writeJsonMap(out, parsed.sections());
            writeJsonMap(out, parsed.modelOptions());
            out.writeByte(parsed.vocab() == null ? 0 : 1);
            if (parsed.vocab() != null) {
                out.writeInt(parsed.vocab().size());
                IOException[] failure = {null};
                parsed.vocab().forEach((token, id) -> {
                    try {
                        out.writeInt(id);
                        writeString(out, token);
                    } catch (IOException e) {
                        failure[0] = e;
                    }
                });
                if (failure[0] != null) throw failure[0];
            }
            out.writeByte(parsed.merges() == null ? 0 : 1);
            if (parsed.merges() != null) {
                out.writeInt(parsed.merges().length);
                ByteBuffer ids = ByteBuffer.allocate(parsed.merges().length * Integer.BYTES);
                ids.asIntBuffer().put(parsed.merges());
                out.write(ids.array());
            }
            out.flush();
            Files.createDirectories(entry.getParent());
            tmp = Files.createTempFile(entry.getParent(), entry.getFileName().toString(), ".tmp");
            Files.write(tmp, bytes.toByteArray());
            Files.move(tmp, entry, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // nothing more to do: the temporary file is only litter
                }
            }
        }
    }

    private static void writeJsonMap(DataOutputStream out, Map<String, JsonNode> map) throws IOException {
        out.writeInt(map.size());
        for (Map.Entry<String, JsonNode> e : map.entrySet()) {
            writeString(out, e.getKey());
            writeString(out, TokenizerFiles.JSON.writeValueAsString(e.getValue()));
        }
    }

    private static Map<String, JsonNode> readJsonMap(ByteBuffer in) throws IOException {
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / 8) throw new IOException("bad section count " + n);
        Map<String, JsonNode> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) map.put(readString(in), TokenizerFiles.JSON.readTree(readString(in)));
        return map;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        // UTF-8 is compact and fast to decode, but cannot carry a lone surrogate (JSON's "\ud800" can):
        // such a file is simply not cached.
        if (Unicode.loneSurrogateIndex(s) >= 0) throw new IOException("lone surrogate: not cacheable");
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String readString(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) throw new IllegalStateException("bad string length " + length);
        String s = new String(in.array(), in.position(), length, StandardCharsets.UTF_8);
        in.position(in.position() + length);
        return s;
    }
}
