package cgap.models.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's reversible byte-to-character map: printable Latin-1 bytes stand for themselves, the
 * other 68 bytes become U+0100.. in byte order, so every byte string is a string of visible chars.
 */
final class ByteLevel {
    private ByteLevel() {}

    static final char[] BYTE_TO_CHAR = new char[256];
    /** Char -> byte, -1 for chars outside the map. */
    static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The UTF-8 bytes of text, each written as its mapped char. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * Appends the bytes token stands for; a token with any char outside the map (an added token
     * such as "<|im_start|>" written in plain text is inside it) contributes its own UTF-8 bytes.
     */
    static void decodeInto(String token, ByteSink sink) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) {
                sink.append(token.getBytes(StandardCharsets.UTF_8));
                return;
            }
        }
        for (int i = 0; i < token.length(); i++) {
            sink.append((byte) CHAR_TO_BYTE[token.charAt(i)]);
        }
    }

    /** A growable byte buffer with Rust's String::from_utf8_lossy. */
    static final class ByteSink {
        private byte[] bytes = new byte[64];
        private int size;

        void append(byte b) {
            if (size == bytes.length) {
                bytes = Arrays.copyOf(bytes, size * 2);
            }
            bytes[size++] = b;
        }

        void append(byte[] more) {
            for (byte b : more) {
                append(b);
            }
        }

        int size() {
            return size;
        }

        void clear() {
            size = 0;
        }

        /** True when the bytes are well-formed UTF-8. */
        boolean isValidUtf8() {
            return Utf8.isValid(bytes, size);
        }

        String toStringLossy() {
            return Utf8.decodeLossy(bytes, size);
        }
    }
}
