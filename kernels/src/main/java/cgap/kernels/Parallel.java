package cgap.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * One shared worker pool for all kernels, sized by the system property {@code cgap.threads}
 * (default: available processors). The calling thread works too, so the pool holds threads()-1 workers.
 *
 * <p>Work is handed out in chunks from a shared counter, so threads that finish early take more.
 * Every chunk writes its own outputs, so results never depend on the thread count or the schedule.
 * A call made while the pool is busy (from inside a chunk, or from a second thread) runs inline on the
 * calling thread: no nested fan-out, no deadlock.
 *
 * <p>Why not an ExecutorService: decoding one token makes over a hundred parallel calls of about a
 * millisecond each, and waking a parked pool thread costs 20 to 50 us on these VMs (5% of decode). So idle
 * workers spin for {@value #SPIN_NANOS} ns, long enough to span the serial work between two matrix
 * products, before they park.
 */
public final class Parallel {
    private static final int THREADS = readThreads();
    /** How long an idle worker, or a caller waiting for workers, spins before parking. */
    private static final long SPIN_NANOS = 200_000;

    /** The job being run, published with a new generation number; null between jobs. */
    private static volatile Job current;
    private static final AtomicInteger GENERATION = new AtomicInteger();
    /** Held by the thread whose job the workers run; others run their calls inline. */
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static final Worker[] WORKERS = startWorkers(THREADS - 1);

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
        if (chunks == 1 || WORKERS.length == 0 || !BUSY.compareAndSet(false, true)) {
            for (int c = 0; c < chunks; c++) body.accept(c * chunk, (int) Math.min(n, (long) c * chunk + chunk));
            return;
        }
        Job job = new Job(n, chunk, chunks, body, Thread.currentThread());
        try {
            current = job;
            GENERATION.incrementAndGet();
            for (Worker w : WORKERS) {
                if (w.parked) LockSupport.unpark(w);
            }
            job.drain();
            job.closeAndAwaitJoiners();
        } finally {
            current = null;
            BUSY.set(false);
        }
        Throwable t = job.failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new RuntimeException(t);
    }

    /** One forChunks call: the chunk counter, and which workers are inside it. */
    private static final class Job {
        /** Set in {@link #state} once the caller has finished its share; the low bits count active workers. */
        private static final int CLOSED = 1 << 30;

        final int n, chunk, chunks;
        final IntIntConsumer body;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger state = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int n, int chunk, int chunks, IntIntConsumer body, Thread caller) {
            this.n = n;
            this.chunk = chunk;
            this.chunks = chunks;
            this.body = body;
            this.caller = caller;
        }

        void drain() {
            try {
                int c;
                while (failure.get() == null && (c = next.getAndIncrement()) < chunks) {
                    body.accept(c * chunk, (int) Math.min(n, (long) c * chunk + chunk));
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }

        /** A worker enters unless the caller has already closed the job (then there is nothing left to take). */
        boolean join() {
            while (true) {
                int s = state.get();
                if ((s & CLOSED) != 0) return false;
                if (state.compareAndSet(s, s + 1)) return true;
            }
        }

        void leave() {
            if (state.decrementAndGet() == CLOSED) LockSupport.unpark(caller);
        }

        /** After the caller's own drain every chunk is taken; wait for the workers still running theirs. */
        void closeAndAwaitJoiners() {
            state.addAndGet(CLOSED);
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            boolean interrupted = false;
            while (state.get() != CLOSED) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                    interrupted |= Thread.interrupted();
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private static final class Worker extends Thread {
        volatile boolean parked;

        Worker(int index) {
            super("cgap-worker-" + index);
            setDaemon(true);
        }

        @Override
        public void run() {
            int seen = GENERATION.get();
            while (true) {
                seen = awaitGeneration(seen);
                Job job = current;
                if (job != null && job.join()) {
                    job.drain();
                    job.leave();
                }
            }
        }

        /** Spins, then parks, until the generation moves past {@code seen}; returns the new one. */
        private int awaitGeneration(int seen) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            int g;
            while ((g = GENERATION.get()) == seen) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                if (GENERATION.get() == seen) LockSupport.park(this); // a publish after this check unparks us
                parked = false;
                Thread.interrupted(); // workers are never interrupted on purpose; ignore and keep serving
            }
            return g;
        }
    }

    private static Worker[] startWorkers(int count) {
        Worker[] workers = new Worker[Math.max(0, count)];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
        return workers;
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
}
