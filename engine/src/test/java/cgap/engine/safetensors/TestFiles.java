package cgap.engine.safetensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Helpers shared by the safetensors tests: fixture lookup, hand-built files, error-message checks. */
final class TestFiles {

    private TestFiles() {
    }

    /** A file under src/test/resources/safetensors/python, written by scripts/gen_safetensors_cases.py. */
    static Path pythonFixture(String relative) {
        URL url = TestFiles.class.getResource("/safetensors/python/" + relative);
        if (url == null) {
            throw new IllegalStateException("missing test fixture safetensors/python/" + relative);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The bytes of a safetensors file: the given declared header length, then header text, then data. */
    static byte[] rawFile(long declaredHeaderLength, byte[] header, byte[] data) {
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(declaredHeaderLength).put(header).put(data);
        return out.array();
    }

    /** A well-framed file (true header length) with the given header JSON and data section. */
    static Path writeFile(Path dir, String fileName, String headerJson, byte[] data) {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return writeBytes(dir, fileName, rawFile(header.length, header, data));
    }

    static Path writeBytes(Path dir, String fileName, byte[] bytes) {
        try {
            return Files.write(dir.resolve(fileName), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs {@code action}, expects a SafetensorsException whose message is one line and contains
     * every fragment (the file, the tensor or field at fault, the reason); returns the message.
     */
    static String expectError(Runnable action, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, action::run);
        String message = e.getMessage();
        assertFalse(message.contains("\n"), "message should be one line: " + message);
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), "message should contain <" + fragment + ">: " + message);
        }
        return message;
    }

    /** Opening {@code file} must fail with a message naming the file and every fragment. */
    static String expectOpenError(Path file, String... fragments) {
        String message = expectError(() -> SafetensorsFile.open(file).close(), fragments);
        assertTrue(message.contains(file.toString()), "message should name the file " + file + ": " + message);
        return message;
    }
}
