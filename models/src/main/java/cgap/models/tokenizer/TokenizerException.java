package cgap.models.tokenizer;

/** A tokenizer file that cannot be read faithfully, or input that cannot be encoded/decoded. */
public final class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
