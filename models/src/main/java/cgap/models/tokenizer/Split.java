package cgap.models.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A piece of normalized text on its way to the model. atInputStart is true when the piece begins
 * at offset 0 of the caller's text (Metaspace's "first" prepend scheme looks at it).
 */
record Split(String text, boolean atInputStart) {

    /** How a pre-tokenizer keeps the matches it finds (HF SplitDelimiterBehavior). */
    enum Behavior {
        REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

        static Behavior fromJson(String name, String where) {
            return switch (name) {
                case "Removed" -> REMOVED;
                case "Isolated" -> ISOLATED;
                case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
                case "MergedWithNext" -> MERGED_WITH_NEXT;
                case "Contiguous" -> CONTIGUOUS;
                default -> throw new TokenizerException(where + ": unknown split behavior " + name);
            };
        }
    }

    /**
     * Cuts this split where pattern matches and appends the non-empty pieces to out, keeping the
     * matches as behavior says (the same folds as HF's NormalizedString::split).
     */
    void splitInto(TextPattern pattern, Behavior behavior, boolean invert, List<Split> out) {
        if (text.isEmpty()) {
            return;
        }
        IntList bounds = new IntList();
        pattern.findMatches(text, bounds);
        // The text as consecutive ranges [start, end) each flagged match or not.
        List<int[]> ranges = new ArrayList<>(bounds.size() + 1);
        int previous = 0;
        for (int k = 0; k < bounds.size(); k += 2) {
            int start = bounds.get(k);
            int end = bounds.get(k + 1);
            if (start != previous) {
                ranges.add(new int[] {previous, start, invert ? 1 : 0});
            }
            ranges.add(new int[] {start, end, invert ? 0 : 1});
            previous = end;
        }
        if (previous != text.length()) {
            ranges.add(new int[] {previous, text.length(), invert ? 1 : 0});
        }
        // Each kept piece: start, end.
        List<int[]> pieces = new ArrayList<>(ranges.size());
        boolean previousMatch = false;
        switch (behavior) {
            case ISOLATED -> {
                for (int[] r : ranges) pieces.add(new int[] {r[0], r[1]});
            }
            case REMOVED -> {
                for (int[] r : ranges) if (r[2] == 0) pieces.add(new int[] {r[0], r[1]});
            }
            case CONTIGUOUS -> {
                for (int[] r : ranges) {
                    boolean match = r[2] == 1;
                    if (match == previousMatch && !pieces.isEmpty()) {
                        pieces.getLast()[1] = r[1];
                    } else {
                        pieces.add(new int[] {r[0], r[1]});
                    }
                    previousMatch = match;
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                for (int[] r : ranges) {
                    boolean match = r[2] == 1;
                    if (match && !previousMatch && !pieces.isEmpty()) {
                        pieces.getLast()[1] = r[1];
                    } else {
                        pieces.add(new int[] {r[0], r[1]});
                    }
                    previousMatch = match;
                }
            }
            case MERGED_WITH_NEXT -> {
                for (int i = ranges.size() - 1; i >= 0; i--) {
                    int[] r = ranges.get(i);
                    boolean match = r[2] == 1;
                    if (match && !previousMatch && !pieces.isEmpty()) {
                        pieces.getLast()[0] = r[0];
                    } else {
                        pieces.add(new int[] {r[0], r[1]});
                    }
                    previousMatch = match;
                }
                java.util.Collections.reverse(pieces);
            }
        }
        for (int[] p : pieces) {
            if (p[1] > p[0]) {
                out.add(new Split(text.substring(p[0], p[1]), atInputStart && p[0] == 0));
            }
        }
    }
}
