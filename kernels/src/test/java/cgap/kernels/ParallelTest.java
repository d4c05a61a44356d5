package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelTest {
    @Test
    void forChunksCoversEveryIndexExactlyOnce() {
        for (int n : new int[] {0, 1, 7, 1000}) {
            for (int chunk : new int[] {1, 3, 64, 5000}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(n, 1));
                Parallel.forChunks(n, chunk, (start, end) -> {
                    assertTrue(end - start <= chunk && start < end);
                    for (int i = start; i < end; i++) seen.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "n=" + n + " chunk=" + chunk + " i=" + i);
            }
        }
    }

    @Test
    void forRangeAndNestedCallsCoverEveryIndex() {
        AtomicIntegerArray seen = new AtomicIntegerArray(50 * 20);
        Parallel.forRange(50, i -> Parallel.forRange(20, j -> seen.incrementAndGet(i * 20 + j)));
        for (int i = 0; i < seen.length(); i++) assertEquals(1, seen.get(i));
    }

    @Test
    void exceptionsReachTheCaller() {
        IllegalStateException thrown = new IllegalStateException("boom");
        IllegalStateException caught = assertThrows(IllegalStateException.class,
                () -> Parallel.forRange(100, i -> { if (i == 77) throw thrown; }));
        assertSame(thrown, caught);
        assertTrue(Parallel.threads() >= 1);
    }

    @Test
    void concurrentCallersEachGetEveryIndexOnce() throws Exception {
        int callers = 4, n = 5000;
        AtomicIntegerArray[] seen = new AtomicIntegerArray[callers];
        Thread[] threads = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            AtomicIntegerArray mine = seen[c] = new AtomicIntegerArray(n);
            threads[c] = new Thread(() -> {
                for (int rep = 0; rep < 200; rep++) Parallel.forChunks(n, 7, (s, e) -> { for (int i = s; i < e; i++) mine.incrementAndGet(i); });
            });
            threads[c].start();
        }
        for (Thread t : threads) t.join();
        for (AtomicIntegerArray mine : seen) {
            for (int i = 0; i < n; i++) assertEquals(200, mine.get(i));
        }
    }
}
