package cgap.engine.hooks;

/** Called with the value at a watched hook point; may modify {@link Activation#data()} in place to replace it. */
@FunctionalInterface
public interface Hook {
    void onActivation(Activation value);
}
