package cgap.kernels;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * One shared worker pool for all kernels, sized by the system property {@code cgap.threads}
 * (default: available processors). The calling thread works too, so the pool holds threads()-1 workers.
 *
 * <p>Work is handed out in chunks from a shared counter, so threads that finish early take more.
 * Every chunk writes its own outputs, so results never depend on the thread count or the schedule.
 * A call made from inside a worker runs inline (no nested fan-out, no deadlock).
 */
public final class Parallel {
    private static final int THREADS = readThreads();
    private static final ExecutorService POOL = THREADS > 1
            ? Executors.newFixedThreadPool(THREADS - 1, Parallel::newWorker)
            : null;

    private Parallel() {}

    /** Number of threads a parallel call uses, the caller included. */
    public static int threads() { return THREADS; }

    /** Runs body(i) for every i in [0, n), spread over the pool; inline when n is 1 or there is one thread. */
    public static void forRange(int n, IntConsumer body) {
        // Several items per chunk keeps the shared counter cheap for many small items,
        // and about eight chunks per thread keeps the load balanced.
        int chunk = Math.max(1, n / (THREADS * 8));
        forChunks(n, chunk, (start, end) -> {
            for (int i = start; i < end; i++) body.accept(i);
        });
    }

    /**
     * Splits [0, n) into chunks of {@code chunk} items (the last may be shorter) and runs
     * body(start, endExclusive) for each, spread over the pool; inline when there is only one chunk.
     */
    public static void forChunks(int n, int chunk, IntIntConsumer body) {
        if (chunk < 1) throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        if (n <= 0) return;
        int chunks = (int) ((n + (long) chunk - 1) / chunk);
        if (chunks == 1 || POOL == null || Thread.currentThread() instanceof Worker) {
            for (int c = 0; c < chunks; c++) body.accept(c * chunk, (int) Math.min(n, (long) c * chunk + chunk));
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable drain = () -> {
            try {
                int c;
                while (failure.get() == null && (c = next.getAndIncrement()) < chunks) {
                    body.accept(c * chunk, (int) Math.min(n, (long) c * chunk + chunk));
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        };
        int helpers = Math.min(THREADS - 1, chunks - 1);
        CountDownLatch done = new CountDownLatch(helpers);
        for (int i = 0; i < helpers; i++) {
            POOL.execute(() -> {
                try { drain.run(); } finally { done.countDown(); }
            });
        }
        drain.run();
        boolean interrupted = false;
        while (true) {
            try { done.await(); break; } catch (InterruptedException e) { interrupted = true; }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new RuntimeException(t);
    }

    private static int readThreads() {
        String value = System.getProperty("cgap.threads");
        if (value == null) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("system property cgap.threads must be a positive integer, got '" + value + "'");
    }

    /** Marks pool threads so nested calls run inline. */
    private static final class Worker extends Thread {
        Worker(Runnable r, String name) { super(r, name); setDaemon(true); }
    }

    private static final AtomicInteger WORKER_COUNT = new AtomicInteger();

    private static Thread newWorker(Runnable r) {
        return new Worker(r, "cgap-worker-" + WORKER_COUNT.incrementAndGet());
    }
}
