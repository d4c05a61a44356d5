package cgap.gap.stats;

import cgap.gap.study.StepRecord;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class WindowsTest {
    @Test
    void windowStarts() {
        assertEquals(8, Windows.lateStart(10));
        assertEquals(5, Windows.halfStart(10));
        assertEquals(27, Windows.lateStart(34));
        assertEquals(17, Windows.halfStart(34));
        assertEquals(25, Windows.lateStart(32));
        assertEquals(21, Windows.lateStart(27));
        assertEquals(13, Windows.halfStart(27));
        assertEquals(28, Windows.lateStart(36));
        assertEquals(4, Windows.lateStart(5));
        assertFalse(Windows.hasLatePreFinal(5), "n = 5: late window is the final layer alone");
        assertTrue(Windows.hasLatePreFinal(6));
        assertEquals(0.0, Windows.depth(0, 10));
        assertEquals(1.0, Windows.depth(9, 10));
        assertEquals(1.0 / 3, Windows.depth(3, 10), 1e-15);
    }

    @Test
    void lateAndFinalHalfKlAverageTheirLayersFinalIncluded() {
        // n = 10: late j >= 8 (layers 8, 9), final half j >= 5 (layers 5..9); layer 9 is final (KL 0)
        StepRecord s = TestSteps.kl("p", "pt", "pt_raw", "own", 0, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        assertEquals((1 + 0) / 2.0, Windows.lateKl(s), 1e-15);
        assertEquals((4 + 3 + 2 + 1 + 0) / 5.0, Windows.finalHalfKl(s), 1e-15);
        assertEquals(5.0, Windows.kl(s, 4));
        assertEquals(2.0, Windows.meanFrom(new double[]{9, 1, 2, 3}, 1));
    }

    @Test
    void remainingJsPathAndFutureFlipsByHand() {
        // n = 12: late j >= 9; late pre-final layers j = 9, 10. Decoder layer k is readout k + 1.
        int n = 12;
        double[] adjacentJs = new double[n];
        for (int l = 0; l < n; l++) adjacentJs[l] = 100;  // readout pairs before the window must not count
        adjacentJs[10] = 0.2;  // JS(decoder 9, decoder 10)
        adjacentJs[11] = 0.05; // JS(decoder 10, decoder 11 = final)
        int[] top1 = new int[n + 1];
        for (int l = 0; l <= n; l++) top1[l] = l;  // every earlier pair flips: must not count
        top1[10] = 7; top1[11] = 8; top1[12] = 8;  // decoder 9 -> 10 flips, decoder 10 -> 11 does not
        StepRecord s = new StepRecord("p", "", "it", "it_native", "own", 0, 8, new double[n + 1], new double[n + 1],
                top1, adjacentJs, 0.5, 1, 1);
        // j = 9: 0.2 + 0.05; j = 10: 0.05; averaged over the two layers
        assertEquals((0.25 + 0.05) / 2, Windows.remainingJsPath(s), 1e-15);
        // j = 9: one flip (9 -> 10); j = 10: none
        assertEquals(0.5, Windows.futureFlips(s), 1e-15);

        top1[12] = 9;  // now decoder 10 -> final flips too: j = 9 sees 2, j = 10 sees 1
        assertEquals(1.5, Windows.futureFlips(s), 1e-15);
    }

    @Test
    void endpointFreeUndefinedWithoutLatePreFinalLayer() {
        StepRecord s = TestSteps.kl("p", "pt", "pt_raw", "own", 0, 1, 3, 2, 1, 0);
        assertTrue(Double.isNaN(Windows.remainingJsPath(s)));
        assertTrue(Double.isNaN(Windows.futureFlips(s)));
    }
}
