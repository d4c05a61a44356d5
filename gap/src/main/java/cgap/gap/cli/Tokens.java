package cgap.gap.cli;

import java.util.Arrays;

/** Parsing of --tokens lists. */
final class Tokens {
    private Tokens() {}

    static int[] parse(String list) {
        if (list == null || list.isBlank()) throw new IllegalArgumentException("--tokens is empty (expected e.g. 1,5,9)");
        try {
            return Arrays.stream(list.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--tokens '" + list + "': not a comma list of integers");
        }
    }

    static void checkRange(int[] tokens, int vocab) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("token id " + tokens[i] + " (position " + i + ") is out of range: the model's vocabulary is 0.." + (vocab - 1));
            }
        }
    }
}
