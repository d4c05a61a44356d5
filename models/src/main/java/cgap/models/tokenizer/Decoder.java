package cgap.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** tokenizer.json "decoder": turns token strings back into text, as a chain over the token list. */
sealed interface Decoder {
    List<String> decodeChain(List<String> tokens);

    static Decoder fromJson(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return null;
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "ByteLevel" -> new ByteLevelBytes();
            case "Metaspace" -> {
                PreTokenizer.Metaspace meta = PreTokenizer.Metaspace.fromJson(node, where);
                yield new Metaspace(meta.replacement().codePointAt(0),
                        meta.prependScheme() != PreTokenizer.Metaspace.PrependScheme.NEVER);
            }
            case "Replace" -> new Replace(TextPattern.fromJson(node.get("pattern"), where + ".Replace"),
                    node.path("content").asText());
            case "ByteFallback" -> new ByteFallback();
            case "Fuse" -> new Fuse();
            case "Strip" -> {
                String content = node.path("content").asText(" ");
                if (content.codePointCount(0, content.length()) != 1) {
                    throw new TokenizerException(where + ".Strip: content must be one character, got '" + content + "'");
                }
                yield new Strip(content.codePointAt(0), node.path("start").asInt(0), node.path("stop").asInt(0));
            }
            case "Sequence" -> {
                List<Decoder> steps = new ArrayList<>();
                for (JsonNode step : node.path("decoders")) {
                    steps.add(fromJson(step, where + ".Sequence"));
                }
                yield new Sequence(steps);
            }
            default -> throw new TokenizerException(where + ": unsupported decoder type '" + type + "'");
        };
    }

    /** All tokens' bytes joined, then decoded as UTF-8 with U+FFFD for broken sequences. */
    record ByteLevelBytes() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            ByteLevel.ByteSink bytes = new ByteLevel.ByteSink();
            for (String token : tokens) {
                ByteLevel.decodeInto(token, bytes);
            }
            return List.of(bytes.toStringLossy());
        }
    }

    /** ▁ back to space; in the first token HF drops every ▁ (the prepended one) unless prepending was off. */
    record Metaspace(int replacement, boolean dropInFirstToken) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String token = tokens.get(i);
                StringBuilder text = new StringBuilder(token.length());
                for (int k = 0; k < token.length(); ) {
                    int c = token.codePointAt(k);
                    k += Character.charCount(c);
                    if (c != replacement) {
                        text.appendCodePoint(c);
                    } else if (!(i == 0 && dropInFirstToken)) {
                        text.append(' ');
                    }
                }
                out.add(text.toString());
            }
            return out;
        }
    }

    record Replace(TextPattern pattern, String content) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String token : tokens) {
                out.add(pattern.replaceAll(token, content));
            }
            return out;
        }
    }

    /**
     * Runs of "<0xNN>" tokens become the text of their bytes; a run that is not valid UTF-8
     * becomes one U+FFFD per byte.
     */
    record ByteFallback() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            ByteLevel.ByteSink pending = new ByteLevel.ByteSink();
            for (String token : tokens) {
                int b = byteOf(token);
                if (b >= 0) {
                    pending.append((byte) b);
                    continue;
                }
                flush(pending, out);
                out.add(token);
            }
            flush(pending, out);
            return out;
        }

        private static void flush(ByteLevel.ByteSink pending, List<String> out) {
            if (pending.size() == 0) {
                return;
            }
            if (pending.isValidUtf8()) {
                out.add(pending.toStringLossy());
            } else {
                for (int i = 0; i < pending.size(); i++) {
                    out.add("\uFFFD");
                }
            }
            pending.clear();
        }

        private static int byteOf(String token) {
            if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') {
                return -1;
            }
            int high = Character.digit(token.charAt(3), 16);
            int low = Character.digit(token.charAt(4), 16);
            return high < 0 || low < 0 ? -1 : high * 16 + low;
        }
    }

    record Fuse() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /**
     * Removes up to start leading and stop trailing copies of content from each token. HF then
     * keeps (UTF-8 length - cuts) chars, so for non-ASCII tokens the trailing cut has no effect:
     * reproduced here.
     */
    record Strip(int content, int start, int stop) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String token : tokens) {
                int[] chars = token.codePoints().toArray();
                int startCut = 0;
                while (startCut < start && startCut < chars.length && chars[startCut] == content) {
                    startCut++;
                }
                int stopCut = 0;
                while (stopCut < stop && stopCut < chars.length && chars[chars.length - 1 - stopCut] == content) {
                    stopCut++;
                }
                int utf8Length = token.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                int keep = Math.min(chars.length - startCut, Math.max(0, utf8Length - startCut - stopCut));
                StringBuilder text = new StringBuilder();
                for (int k = startCut; k < startCut + keep; k++) {
                    text.appendCodePoint(chars[k]);
                }
                out.add(text.toString());
            }
            return out;
        }
    }

    record Sequence(List<Decoder> steps) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            for (Decoder step : steps) {
                tokens = step.decodeChain(tokens);
            }
            return tokens;
        }
    }
}
