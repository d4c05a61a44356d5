package cgap.gap.study;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A JSONL file of records that grows one prompt at a time: a prompt's lines are appended as one block (in a
 * .gz file, one gzip member, which concatenated members keep valid) and forced to disk. The run's progress
 * file records the length after each finished prompt, so a rerun cuts off a block a kill left half-written.
 */
public final class StepsFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final boolean gzip;

    public StepsFile(Path file) {
        this.file = file;
        this.gzip = file.getFileName().toString().endsWith(".gz");
    }

    public Path path() { return file; }

    /** Current length in bytes (0 when the file does not exist yet). */
    public long length() {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Cuts the file back to {@code length} bytes: whatever a killed run appended after its last finished prompt. */
    public void truncate(long length) {
        try {
            if (!Files.exists(file)) {
                if (length != 0) throw new IllegalStateException(file + " is missing but the run's progress says it held " + length + " bytes");
                return;
            }
            if (Files.size(file) < length) {
                throw new IllegalStateException(file + " is shorter (" + Files.size(file) + " bytes) than the run's progress says ("
                        + length + "); it was changed outside cgap: use a new --out directory");
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(length);
                ch.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate " + file, e);
        }
    }

    /** Appends one block of records, one JSON object per line, and forces it to disk. */
    public void append(List<?> records) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (OutputStream out = gzip ? new GZIPOutputStream(bytes) : bytes) {
                for (Object r : records) {
                    out.write(JSON.writeValueAsBytes(r));
                    out.write('\n');
                }
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes.toByteArray());
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }

    /** Every record in the file, in order. */
    public <T> List<T> readAll(Class<T> type) {
        List<T> out = new ArrayList<>();
        if (!Files.exists(file)) return out;
        try (InputStream raw = Files.newInputStream(file);
             BufferedReader in = new BufferedReader(new InputStreamReader(gzip ? new GZIPInputStream(raw, 1 << 16) : raw, StandardCharsets.UTF_8))) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isEmpty()) continue;
                try {
                    out.add(JSON.readValue(line, type));
                } catch (IOException e) {
                    throw new IllegalStateException(file + " line " + lineNo + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return out;
    }
}
