package cgap.gap.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PlotsTest {
    @Test
    void barChartWritesPngAndSvg(@TempDir Path dir) throws Exception {
        String svg = Plots.barChart(dir.resolve("graft.png"), "Late-window effect", List.of("graft", "swap"),
                new double[]{0.34, -0.51}, new double[]{0.30, -0.60}, new double[]{0.38, -0.44});
        BufferedImage png = ImageIO.read(dir.resolve("graft.png").toFile());
        assertEquals(Plots.WIDTH, png.getWidth());
        assertEquals(Plots.HEIGHT, png.getHeight());
        String file = Files.readString(dir.resolve("graft.svg"));
        assertTrue(file.contains("<svg") && file.contains("Late-window effect") && file.contains("swap"), "svg content");
        assertTrue(svg.startsWith("<svg"), "the returned element inlines without a prolog");
        assertThrows(IllegalArgumentException.class, () -> Plots.barChart(dir.resolve("bad"), "t", List.of("a"),
                new double[]{1, 2}, new double[]{1, 2}, new double[]{1, 2}));
    }
}
