package cgap.engine.safetensors;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** A safetensors file, index or checkpoint directory that cannot be read; the message names the file and what is wrong. */
public class SafetensorsException extends RuntimeException {

    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }

    /** An I/O failure in words: some IOExceptions carry only a path as their message. */
    static String describe(IOException e) {
        String reason = switch (e) {
            case NoSuchFileException n -> "no such file or directory " + n.getFile();
            case AccessDeniedException a -> "permission denied on " + a.getFile();
            default -> e.getClass().getSimpleName() + ": " + e.getMessage();
        };
        return SafetensorsHeader.oneLine(reason);
    }
}
