package cgap.engine.safetensors;

/** A safetensors file, index or checkpoint directory that cannot be read; the message names the file and what is wrong. */
public class SafetensorsException extends RuntimeException {

    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
