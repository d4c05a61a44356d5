package cgap.gap.graft;

import cgap.engine.graft.LayerWindow;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerWindowTest {

    @Test
    void namedWindowsAreThePapersForThirtyTwoLayers() {
        assertEquals(new LayerWindow(0, 12), LayerWindow.parse("early", 32));
        assertEquals(new LayerWindow(9, 21), LayerWindow.parse("mid", 32));
        assertEquals(new LayerWindow(19, 31), LayerWindow.parse("late", 32));
    }

    @Test
    void lateWindowsScaleWithDepthAsInThePapersFamilyTable() {
        assertEquals(new LayerWindow(20, 33), LayerWindow.parse("late", 34)); // Gemma 3 4B
        assertEquals(new LayerWindow(22, 35), LayerWindow.parse("late", 36)); // Qwen 3 4B
        assertEquals(new LayerWindow(16, 26), LayerWindow.parse("late", 27)); // DeepSeek-V2-Lite: 11 layers of 27
        assertEquals(new LayerWindow(2, 3), LayerWindow.parse("late", 4));
        assertEquals(new LayerWindow(1, 2), LayerWindow.parse("mid", 4));
    }

    @Test
    void explicitRangesAreEndInclusive() {
        LayerWindow w = LayerWindow.parse("3-5", 8);
        assertEquals(3, w.size());
        assertTrue(w.contains(5));
        assertEquals(5, w.mirror(3));
        assertEquals(new LayerWindow(7, 7), LayerWindow.parse("7", 8));
        assertEquals("3-5", w.toString());
    }

    @Test
    void badWindowsAreRefusedNamingThem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerWindow.parse("2-9", 8)).getMessage().contains("0..7"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerWindow.parse("late-ish", 8)).getMessage().contains("late-ish"));
        assertThrows(IllegalArgumentException.class, () -> LayerWindow.parse("5-3", 8));
    }
}
