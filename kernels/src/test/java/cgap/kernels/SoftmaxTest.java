package cgap.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SoftmaxTest {
    @Test
    void knownAnswerOnASubrange() {
        float[] x = {99, 0, (float) Math.log(3), 99};
        Softmax.inPlace(x, 1, 2);
        assertEquals(0.25f, x[1], 1e-7f);
        assertEquals(0.75f, x[2], 1e-7f);
        assertEquals(99f, x[0]);
        assertEquals(99f, x[3]);
    }

    @Test
    void largeLogitsDoNotOverflow() {
        float[] x = {1000f, 1000f, -1e30f, Float.NEGATIVE_INFINITY};
        Softmax.inPlace(x, 0, 4);
        assertEquals(0.5f, x[0]);
        assertEquals(0.5f, x[1]);
        assertEquals(0f, x[2]);
        assertEquals(0f, x[3]);
    }
}
