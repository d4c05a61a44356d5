package cgap.models.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * tokenizer.json "added_tokens": strings matched in the input before normalization (or, for
 * normalized=true tokens, in the normalized text) and emitted as one id each, as HF's
 * AddedVocabulary does: leftmost-longest matching, then the single_word, lstrip and rstrip rules.
 */
final class AddedVocabulary {

    record AddedToken(int id, String content, boolean special, boolean normalized, boolean lstrip,
                      boolean rstrip, boolean singleWord) {}

    /** A piece of input: an added token's id, or text (normalized) that still needs the model. */
    record Piece(int addedId, Split text) {
        boolean isAdded() {
            return text == null;
        }
    }

    private final Matcher raw;
    private final Matcher normalizedMatcher;

    AddedVocabulary(List<AddedToken> tokens, Normalizer normalizer) {
        List<AddedToken> rawTokens = new ArrayList<>();
        List<String> rawPatterns = new ArrayList<>();
        List<AddedToken> normalizedTokens = new ArrayList<>();
        List<String> normalizedPatterns = new ArrayList<>();
        for (AddedToken token : tokens) {
            if (token.content().isEmpty()) {
                continue;
            }
            if (token.normalized()) {
                normalizedTokens.add(token);
                normalizedPatterns.add(normalizer == null ? token.content() : normalizer.normalize(token.content()));
            } else {
                rawTokens.add(token);
                rawPatterns.add(token.content());
            }
        }
        raw = new Matcher(rawTokens, rawPatterns);
        normalizedMatcher = new Matcher(normalizedTokens, normalizedPatterns);
    }

    /** Splits text on added tokens, normalizing the text between them. */
    List<Piece> split(String text, Normalizer normalizer) {
        List<Piece> pieces = new ArrayList<>();
        List<Piece> firstPass = new ArrayList<>();
        raw.split(new Split(text, true), firstPass);
        for (Piece piece : firstPass) {
            if (piece.isAdded()) {
                pieces.add(piece);
                continue;
            }
            String normalized = normalizer == null ? piece.text().text() : normalizer.normalize(piece.text().text());
            normalizedMatcher.split(new Split(normalized, piece.text().atInputStart()), pieces);
        }
        return pieces;
    }

    /** Leftmost-longest search over a trie of token contents. */
    private static final class Matcher {
        private final List<AddedToken> tokens;
        private final Node root = new Node();
        /** Chars that begin some pattern: the scan skips all others at once. */
        private final boolean[] startsPattern = new boolean[0x10000];

        Matcher(List<AddedToken> tokens, List<String> patterns) {
            this.tokens = tokens;
            for (int t = 0; t < patterns.size(); t++) {
                String pattern = patterns.get(t);
                if (pattern.isEmpty()) {
                    continue;
                }
                Node node = root;
                for (int i = 0; i < pattern.length(); i++) {
                    node = node.children.computeIfAbsent(pattern.charAt(i), c -> new Node());
                }
                if (node.token < 0) {
                    node.token = t;
                }
                startsPattern[pattern.charAt(0)] = true;
            }
        }

        /** Appends the pieces of split (non-empty text pieces and matched tokens) to out. */
        void split(Split split, List<Piece> out) {
            String text = split.text();
            if (text.isEmpty()) {
                return;
            }
            int pieceStart = 0;
            int from = 0;
            while (from < text.length()) {
                int start = -1;
                int end = -1;
                int token = -1;
                for (int i = from; i < text.length() && start < 0; i++) {
                    if (!startsPattern[text.charAt(i)]) {
                        continue;
                    }
                    Node node = root;
                    for (int j = i; j < text.length(); j++) {
                        node = node.children.get(text.charAt(j));
                        if (node == null) break;
                        if (node.token >= 0) {
                            start = i;
                            end = j + 1;
                            token = node.token;
                        }
                    }
                }
                if (start < 0) {
                    break;
                }
                from = end;
                AddedToken added = tokens.get(token);
                if (added.singleWord()) {
                    boolean wordBefore = start > 0 && Unicode.isWordCharacter(text.codePointBefore(start));
                    boolean wordAfter = end < text.length() && Unicode.isWordCharacter(text.codePointAt(end));
                    if (wordBefore || wordAfter) {
                        continue;
                    }
                }
                if (added.lstrip()) {
                    int newStart = start;
                    while (newStart > 0 && Unicode.isWhitespace(text.codePointBefore(newStart))) {
                        newStart -= Character.charCount(text.codePointBefore(newStart));
                    }
                    start = Math.max(newStart, pieceStart);
                }
                if (added.rstrip()) {
                    while (end < text.length() && Unicode.isWhitespace(text.codePointAt(end))) {
                        end += Character.charCount(text.codePointAt(end));
                    }
                }
                if (pieceStart < start) {
                    out.add(new Piece(-1, new Split(text.substring(pieceStart, start), split.atInputStart() && pieceStart == 0)));
                }
                out.add(new Piece(added.id(), null));
                pieceStart = end;
            }
            if (pieceStart < text.length()) {
                out.add(new Piece(-1, new Split(text.substring(pieceStart), split.atInputStart() && pieceStart == 0)));
            }
        }
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        int token = -1;
    }
}
