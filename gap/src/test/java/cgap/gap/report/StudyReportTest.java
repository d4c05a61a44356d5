package cgap.gap.report;

import cgap.gap.stats.StudyStatistics;
import cgap.gap.stats.StudySummary;
import cgap.gap.stats.SyntheticStudy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class StudyReportTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void writesEveryFileValid(@TempDir Path out) throws Exception {
        StudySummary summary = StudyStatistics.summarize(SyntheticStudy.records(12, 5, 10, 0.8, 7), 42, 200);
        Map<String, String> runInfo = new LinkedHashMap<>();
        runInfo.put("models", "synthetic <pt> & <it>");
        runInfo.put("cgap version", "test");
        StudyReport.write(out, summary, runInfo);

        for (String name : List.of("summary.json", "curves.csv", "kl_curves.png", "kl_curves.svg", "gap_curve.png",
                "gap_curve.svg", "report.html"))
            assertTrue(Files.size(out.resolve(name)) > 0, name);
        try (var files = Files.list(out)) {
            assertEquals(7, files.count(), "no temporary files left behind");
        }
        for (String png : List.of("kl_curves.png", "gap_curve.png"))
            assertArrayEquals(PNG_MAGIC, Arrays.copyOf(Files.readAllBytes(out.resolve(png)), 8), png);
        DocumentBuilderFactory xml = DocumentBuilderFactory.newInstance();
        // JFreeSVG writes the SVG 1.1 DOCTYPE; parse without fetching its DTD (no network in tests)
        xml.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        for (String svg : List.of("kl_curves.svg", "gap_curve.svg")) {
            Document doc = xml.newDocumentBuilder().parse(out.resolve(svg).toFile());
            assertEquals("svg", doc.getDocumentElement().getTagName(), svg);
        }

        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains(StudyReport.number(summary.headline().cg().mean(), true)), "CG in report");
        assertTrue(html.contains(StudyReport.number(summary.headline().cg().lo(), true)), "CG lo in report");
        assertTrue(html.contains(StudyReport.number(summary.endpointMatched().lateKlGap().mean(), true)), "CEM gap");
        assertTrue(html.contains("synthetic &lt;pt&gt; &amp; &lt;it&gt;"), "run info escaped");
        assertTrue(html.contains("report_written"), "timestamp added");
        assertFalse(html.contains("<?xml"), "SVG inlined without its XML prolog");
        assertFalse(html.contains("src=\"http"), "self-contained");

        List<String> csv = Files.readAllLines(out.resolve("curves.csv"));
        assertEquals("model,regime,layer,depth,mean,lo,hi", csv.getFirst());
        assertEquals(1 + 2 * 10, csv.size(), "PT and IT own-history curves, 10 layers each");

        String table = StudyReport.headlineTable(summary);
        assertTrue(table.contains(StudyReport.number(summary.headline().cg().mean(), true)), table);
    }
}
