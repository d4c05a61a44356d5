package cgap.engine.runtime;

import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;
import cgap.kernels.MatMul;
import cgap.kernels.WeightMatrix;

/** The GLU MLP of every supported family: down(act(gate(h)) * up(h)). */
public record GatedMlp(WeightMatrix gate, WeightMatrix up, WeightMatrix down, ActivationFunction act)
        implements MlpLayer {

    public int width() { return gate.rows(); }

    @Override
    public void forward(float[] h, int T, int pos0, int layer, HookRegistry hooks, float[] out) {
        int f = gate.rows();
        float[] g = new float[T * f];
        float[] u = new float[T * f];
        MatMul.matmulEach(h, T, new WeightMatrix[] {gate, up}, new float[][] {g, u});
        hooks.fire(HookPoint.MLP_PRE, layer, g, T, f, pos0);
        act.glu(g, u, g, T * f);
        hooks.fire(HookPoint.MLP_POST, layer, g, T, f, pos0);
        MatMul.matmul(g, T, down, out);
    }
}
