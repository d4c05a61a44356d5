package cgap.engine.runtime;

/**
 * One decoder layer as data: its attention and MLP, and the norms around them. A null norm is absent:
 * Llama has the two pre-norms; Gemma 2/3 add the two post-norms (a "sandwich"); OLMo 2 has only post-norms.
 */
public record Block(Norm attnNorm, AttentionLayer attention, Norm attnPostNorm,
                    Norm mlpNorm, MlpLayer mlp, Norm mlpPostNorm) {

    public Block withMlp(MlpLayer other) {
        return new Block(attnNorm, attention, attnPostNorm, mlpNorm, other, mlpPostNorm);
    }
}
