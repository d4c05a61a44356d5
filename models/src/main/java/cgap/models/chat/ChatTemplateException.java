package cgap.models.chat;

/** A chat template that cannot be read or that fails to render (its own raise_exception included). */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
