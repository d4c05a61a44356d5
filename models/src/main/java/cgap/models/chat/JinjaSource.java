package cgap.models.chat;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.regex.Pattern;

/**
 * Rewrites a template's source where Jinjava reads Jinja differently from jinja2, without
 * changing what jinja2 would render:
 * line breaks and the final newline as jinja2's lexer treats them; trim_blocks and lstrip_blocks;
 * line breaks inside string literals written as \n escapes (so error line numbers stay right); x[::-1] (no step slices in
 * Jinjava) as x|reverse; and keyword-argument values parenthesised, since Jinjava binds
 * f(a=x|length - 1) as (a=x|length) - 1; a space between a dict literal's "}" and the next "}",
 * which Jinjava would take for the end of the expression.
 */
final class JinjaSource {
    private JinjaSource() {}

    private static final Pattern REVERSE_SLICE = Pattern.compile("\\[\\s*:\\s*:\\s*-\\s*1\\s*]");

    static String prepare(String source) {
        return rewriteCode(lexerText(source));
    }

    /**
     * Every line break Python's str.splitlines knows becomes "\n", and one final line break is
     * dropped (jinja2's keep_trailing_newline=False).
     */
    static String lexerText(String source) {
        String unified = source.replace("\r\n", "\n").replaceAll("[\\r\\x0B\\x0C\\x1C-\\x1E\\x85\\u2028\\u2029]", "\n");
        return unified.endsWith("\n") ? unified.substring(0, unified.length() - 1) : unified;
    }

    /**
     * Applies the expression rewrites inside {{ }} and {% %}, and jinja2's trim_blocks and
     * lstrip_blocks (Jinjava's own versions of those lose count of lines, so its error line
     * numbers would be wrong): the newline after a block or comment tag becomes an empty comment
     * holding it, which renders nothing but keeps every later line where it was.
     */
    private static String rewriteCode(String source) {
        StringBuilder out = new StringBuilder(source.length() + 64);
        int i = 0;
        boolean lineStarting = true; // the previous tag ate the newline after it, or nothing came yet
        while (i < source.length()) {
            int open = nextOpening(source, i);
            if (open < 0) {
                out.append(source, i, source.length());
                break;
            }
            char kind = source.charAt(open + 1);
            char openMarker = open + 2 < source.length() ? source.charAt(open + 2) : 0;
            String text = source.substring(i, open);
            if (kind != '{' && openMarker != '+' && openMarker != '-') {
                text = lstripBlock(text, lineStarting);
            }
            out.append(text);
            String closing = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            int end = kind == '#' ? commentEnd(source, open + 2) : codeEnd(source, open + 2, closing);
            String code = source.substring(open + 2, end);
            out.append(source, open, open + 2);
            out.append(kind == '#' ? code : rewriteExpression(REVERSE_SLICE.matcher(code).replaceAll("|reverse")));
            int closingStart = end;
            int after = Math.min(source.length(), source.indexOf(closing, end) < 0 ? source.length()
                    : source.indexOf(closing, end) + 2);
            out.append(source, closingStart, after);
            char closeMarker = closingStart < source.length() ? source.charAt(closingStart) : 0;
            lineStarting = false;
            if (kind != '{' && closeMarker != '-' && closeMarker != '+' && after < source.length()
                    && source.charAt(after) == '\n') {
                out.append("{#\n#}");
                after++;
                lineStarting = true;
            }
            i = after;
        }
        return out.toString();
    }

    /**
     * lstrip_blocks: spaces and tabs between the start of a line and a block tag are dropped
     * (jinja2 counts the text as line-initial after a newline in it, or when the previous tag
     * ate its newline).
     */
    private static String lstripBlock(String text, boolean lineStarting) {
        int lineStart = text.lastIndexOf('\n') + 1;
        if (lineStart == 0 && !lineStarting) {
            return text;
        }
        if (lineStart == text.length()) {
            return text;
        }
        for (int k = lineStart; k < text.length(); k++) {
            if (!Character.isWhitespace(text.charAt(k))) {
                return text;
            }
        }
        return text.substring(0, lineStart);
    }

    private static int commentEnd(String s, int from) {
        int end = s.indexOf("#}", from);
        if (end < 0) return s.length();
        return end > from && (s.charAt(end - 1) == '-' || s.charAt(end - 1) == '+') ? end - 1 : end;
    }

    private static int nextOpening(String s, int from) {
        for (int i = from; i + 1 < s.length(); i++) {
            if (s.charAt(i) == '{' && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '%' || s.charAt(i + 1) == '#')) {
                return i;
            }
        }
        return -1;
    }

    /** Index of the closing delimiter, skipping string literals and dict literals' braces. */
    private static int codeEnd(String s, int from, String closing) {
        char quote = 0;
        int braces = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') i++;
                else if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '{') {
                braces++;
            } else if (c == '}' && braces > 0) {
                braces--;
            } else if (s.startsWith(closing, i) || (c == '-' && s.startsWith(closing, i + 1))
                    || (c == '+' && s.startsWith(closing, i + 1))) {
                return i;
            }
        }
        return s.length();
    }

    /** Wraps each keyword-argument value of a call in parentheses: f(a=x - 1) -> f(a=(x - 1)). */
    static String rewriteExpression(String code) {
        StringBuilder out = new StringBuilder(code.length() + 8);
        // One entry per open bracket: whether a keyword value is open inside it (a '(' to close).
        Deque<boolean[]> frames = new ArrayDeque<>();
        Deque<Character> kinds = new ArrayDeque<>();
        char quote = 0;
        int movedLineBreaks = 0;
        char lastSignificant = 0;
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (quote != 0) {
                if (c == '\n') {
                    // Jinjava does not count line breaks inside string literals: escape them and
                    // put the line breaks after the literal, where they count and mean nothing.
                    out.append("\\n");
                    movedLineBreaks++;
                    continue;
                }
                out.append(c);
                if (c == '\\' && i + 1 < code.length()) {
                    out.append(code.charAt(++i));
                } else if (c == quote) {
                    quote = 0;
                    out.append("\n".repeat(movedLineBreaks));
                    movedLineBreaks = 0;
                }
                continue;
            }
            if (c == '\'' || c == '"') {
                quote = c;
                out.append(c);
                lastSignificant = c;
                continue;
            }
            if (c == '(' || c == '[' || c == '{') {
                frames.push(new boolean[] {false});
                kinds.push(c);
                out.append(c);
                lastSignificant = c;
                continue;
            }
            if ((c == ')' || c == ']' || c == '}' || c == ',') && !frames.isEmpty()) {
                boolean[] frame = frames.peek();
                if (frame[0]) {
                    out.append(')');
                    frame[0] = false;
                }
                if (c != ',') {
                    frames.pop();
                    kinds.pop();
                }
                out.append(c);
                if (c == '}' && (i + 1 == code.length() || code.charAt(i + 1) == '}')) {
                    out.append(' '); // a dict's "}" next to another must not read as the end "}}"
                }
                lastSignificant = c;
                continue;
            }
            if (Character.isJavaIdentifierStart(c) && !frames.isEmpty() && kinds.peek() == '('
                    && (lastSignificant == '(' || lastSignificant == ',')) {
                int j = i;
                while (j < code.length() && Character.isJavaIdentifierPart(code.charAt(j))) j++;
                int k = j;
                while (k < code.length() && code.charAt(k) == ' ') k++;
                if (k < code.length() && code.charAt(k) == '=' && (k + 1 >= code.length() || code.charAt(k + 1) != '=')) {
                    out.append(code, i, k + 1).append('(');
                    frames.peek()[0] = true;
                    i = k;
                    lastSignificant = '=';
                    continue;
                }
                out.append(code, i, j);
                lastSignificant = code.charAt(j - 1);
                i = j - 1;
                continue;
            }
            out.append(c);
            if (!Character.isWhitespace(c)) lastSignificant = c;
        }
        return out.toString();
    }
}
