package cgap.models.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's str methods (startswith, strip('\n'), split, title, ...) on strings in templates, which
 * Jinjava would otherwise look up as Java methods. Only method calls are handled here; every other
 * lookup is left to the resolvers after this one.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || method == null) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result = call(s, method.toString(), args);
        if (result != NOT_HANDLED) {
            context.setPropertyResolved(true);
            return result;
        }
        return null;
    }

    private static final Object NOT_HANDLED = new Object();

    private static Object call(String s, String name, Object[] args) {
        return switch (name) {
            case "startswith" -> args.length == 1 ? anyOf(args[0], p -> s.startsWith(p)) : NOT_HANDLED;
            case "endswith" -> args.length == 1 ? anyOf(args[0], p -> s.endsWith(p)) : NOT_HANDLED;
            case "strip" -> args.length <= 1 ? strip(s, chars(args), true, true) : NOT_HANDLED;
            case "lstrip" -> args.length <= 1 ? strip(s, chars(args), true, false) : NOT_HANDLED;
            case "rstrip" -> args.length <= 1 ? strip(s, chars(args), false, true) : NOT_HANDLED;
            case "split" -> args.length <= 2 ? split(s, args.length > 0 ? (String) args[0] : null,
                    args.length > 1 ? ((Number) args[1]).intValue() : -1) : NOT_HANDLED;
            case "upper" -> args.length == 0 ? s.toUpperCase(Locale.ROOT) : NOT_HANDLED;
            case "lower" -> args.length == 0 ? s.toLowerCase(Locale.ROOT) : NOT_HANDLED;
            case "title" -> args.length == 0 ? title(s) : NOT_HANDLED;
            case "capitalize" -> args.length == 0 ? capitalize(s) : NOT_HANDLED;
            case "replace" -> args.length == 2 ? s.replace(String.valueOf(args[0]), String.valueOf(args[1])) : NOT_HANDLED;
            case "find" -> args.length == 1 ? (long) s.indexOf(String.valueOf(args[0])) : NOT_HANDLED;
            case "count" -> args.length == 1 ? count(s, String.valueOf(args[0])) : NOT_HANDLED;
            case "join" -> args.length == 1 ? join(s, args[0]) : NOT_HANDLED;
            default -> NOT_HANDLED;
        };
    }

    private interface StringTest {
        boolean test(String prefix);
    }

    /** str.startswith/endswith accept one string or a tuple of them. */
    private static boolean anyOf(Object arg, StringTest test) {
        if (arg instanceof Collection<?> options) {
            for (Object option : options) {
                if (test.test(String.valueOf(option))) return true;
            }
            return false;
        }
        return test.test(String.valueOf(arg));
    }

    private static String chars(Object[] args) {
        return args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
    }

    /** Python strip: chars == null means whitespace. */
    private static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && stripped(s.codePointAt(start), chars)) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (right && end > start && stripped(s.codePointBefore(end), chars)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int c, String chars) {
        if (chars == null) {
            return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
        }
        return chars.indexOf(Character.toString(c)) >= 0;
    }

    /** Python split: no separator splits on whitespace runs and drops empty parts. */
    private static List<String> split(String s, String separator, int maxSplit) {
        List<String> parts = new ArrayList<>();
        if (separator == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && stripped(s.charAt(i), null)) i++;
                if (i >= n) break;
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !stripped(s.charAt(j), null)) j++;
                parts.add(s.substring(i, j));
                i = j;
            }
            return parts;
        }
        if (separator.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(separator, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + separator.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            out.appendCodePoint(previousCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            previousCased = Character.isLetter(c);
        }
        return out.toString();
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT)).toString();
    }

    private static long count(String s, String part) {
        if (part.isEmpty()) return s.codePointCount(0, s.length()) + 1;
        long n = 0;
        for (int at = s.indexOf(part); at >= 0; at = s.indexOf(part, at + part.length())) n++;
        return n;
    }

    private static Object join(String separator, Object items) {
        List<String> parts = new ArrayList<>();
        if (items instanceof Iterable<?> iterable) {
            for (Object item : iterable) parts.add(String.valueOf(item));
        } else if (items instanceof Iterator<?> iterator) {
            iterator.forEachRemaining(item -> parts.add(String.valueOf(item)));
        } else {
            return NOT_HANDLED;
        }
        return String.join(separator, parts);
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
