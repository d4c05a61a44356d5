package cgap.engine.runtime;

import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;

import java.util.List;

/** The MLP sub-block of one layer: reads the normalized input h [T, d], writes its output [T, d]. */
public interface MlpLayer {
    void forward(float[] h, int T, int pos0, int layer, HookRegistry hooks, float[] out);

    /** The mlp.* hook points this kind fires. */
    default List<HookPoint> hookPoints() { return List.of(HookPoint.MLP_PRE, HookPoint.MLP_POST); }
}
