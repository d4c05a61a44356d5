package cgap.models.tokenizer;

/**
 * UTF-8 validation and Rust's lossy decoding (each maximal invalid subpart becomes one U+FFFD),
 * written out so the replacement rule is exactly the one HF's decoders use.
 */
final class Utf8 {
    private Utf8() {}

    static boolean isValid(byte[] bytes, int size) {
        int i = 0;
        while (i < size) {
            int length = validSequenceLength(bytes, i, size);
            if (length <= 0) {
                return false;
            }
            i += length;
        }
        return true;
    }

    static String decodeLossy(byte[] bytes, int size) {
        StringBuilder out = new StringBuilder(size);
        int i = 0;
        while (i < size) {
            int length = validSequenceLength(bytes, i, size);
            if (length > 0) {
                out.appendCodePoint(codePoint(bytes, i, length));
                i += length;
            } else {
                out.append('\uFFFD');
                i += -length;
            }
        }
        return out.toString();
    }

    /**
     * Length of the valid sequence starting at i, or minus the length of the maximal invalid
     * subpart (at least 1) to replace with one U+FFFD.
     */
    private static int validSequenceLength(byte[] bytes, int i, int size) {
        int b0 = bytes[i] & 0xFF;
        if (b0 < 0x80) {
            return 1;
        }
        int need;
        int lo = 0x80;
        int hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            need = 1;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
        } else {
            return -1;
        }
        for (int k = 1; k <= need; k++) {
            if (i + k >= size) {
                return -k;
            }
            int b = bytes[i + k] & 0xFF;
            int low = k == 1 ? lo : 0x80;
            int high = k == 1 ? hi : 0xBF;
            if (b < low || b > high) {
                return -k;
            }
        }
        return need + 1;
    }

    private static int codePoint(byte[] bytes, int i, int length) {
        int b0 = bytes[i] & 0xFF;
        return switch (length) {
            case 1 -> b0;
            case 2 -> ((b0 & 0x1F) << 6) | (bytes[i + 1] & 0x3F);
            case 3 -> ((b0 & 0x0F) << 12) | ((bytes[i + 1] & 0x3F) << 6) | (bytes[i + 2] & 0x3F);
            default -> ((b0 & 0x07) << 18) | ((bytes[i + 1] & 0x3F) << 12) | ((bytes[i + 2] & 0x3F) << 6)
                    | (bytes[i + 3] & 0x3F);
        };
    }
}
