package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * out[t*rows + r] = sum_c x[t*cols + c] * W[r, c] for t < T, with x: [T, cols], out: [T, rows],
 * W a BF16/F16/F32 {@link WeightMatrix} read in place, and f32 accumulation.
 *
 * <p>How (a small GEMM in the BLIS manner). Rows are split over {@link Parallel} threads in chunks of at
 * most {@value #CHUNK_ROWS} rows. For a chunk, the chunk's rows are widened to f32, a span of
 * {@link #BLOCKS_PER_SPAN} K blocks at a time, into a per-thread block (vectorized BF16/F16 decode, L2-resident)
 * laid out K block by K block, so that the chunk's rows of one K block (at most {@link #K_BLOCK} columns) lie
 * side by side, each row's vectors chain by chain (see the summation order); the work then walks that span token
 * tile by token tile and, for each, K block by K block, running register tiles of {@link #TOKEN_TILE} tokens x
 * {@link #ROW_TILE} rows. x is first packed so that a token tile's vectors lie side by side, chain by chain as well
 * (see packTokenTiles), and one chain of a tile's x stays in L1 while it passes over all the chunk's rows, so each
 * weight vector (from L2) feeds {@link #TOKEN_TILE} FMAs and each x vector (from L1) feeds {@link #ROW_TILE}. Every
 * weight is read from memory once per call and per {@value #TOKEN_BLOCK} tokens. The vector accumulators live in a
 * per-thread scratch: when a row is one span, a token tile's are summed into out as soon as its tiles are done;
 * otherwise every tile keeps its own across the spans. The f32 block, the accumulators and the packed x are used from their first
 * cache-line-aligned element ({@link CacheLineAlignment}), so that no vector load spans two lines. Decode
 * (T = 1) streams BF16 rows directly (decodeBF16), other dtypes take this path with one-token tiles; either way
 * it reads the weights once, which makes it bandwidth bound.
 *
 * <p>Summation order (fixed, so results are deterministic and do not depend on T, the blocking or the
 * thread count): each output is one dot product over {@link #CHAINS} FMA chains of L lanes. The whole vectors
 * of a row (vector k: columns [kL, kL+L)) go to chain k mod CHAINS, where lane j accumulates, with FMA and in
 * increasing c, the products of its columns c = j (mod L); the chains are added lane-wise, the L lanes then
 * summed by {@link Vec#sumLanes} (by {@link Vec#sumLanesOfEach}, the same tree for L outputs at once: L rows
 * of a token in the tiled path, L rows in decode), and the columns past the last whole vector added in order with
 * FMA. L is the preferred float vector length of the machine, so the last bits can differ between machines.
 */
public final class MatMul {
    /**
     * FMA chains per output (see the summation order). One chain of 8 lanes moves only 16 bytes of BF16 per FMA
     * latency, too little for decode to keep up with memory: with AVX2, two chains per row streamed the 128256 x
     * 2048 unembedding at 0.87-1.05 of a plain read of the same bytes, against 0.66-0.71 for one; with the four
     * spaced rows of decodeBF16, two chains gave 0.91-0.94 on the q/k/v projections against 0.76-0.77 for one
     * (bench/RESULTS.md). At 16 lanes one does.
     */
    static final int CHAINS = L >= 16 ? 1 : 2;
    /** Columns from one of a chain's vectors to its next. */
    private static final int CHAIN_STEP = CHAINS * L;
    /**
     * Tokens x rows per register tile. With AVX-512, 8 x 3: 24 accumulators, three weight vectors and an x vector
     * in 32 registers. With AVX2, 6 x 2: 12 + 2 + 1 of 16. The weight vectors stream from L2, and in a 6 x 2
     * tile each one feeds six FMAs; the 3 x 3 tile before it fed three, and 6 x 2 ran x1.08-1.21 faster on the
     * Gemma-2-2B shapes (bench/RESULTS.md). (4 x 3 left AVX2 one register short: C2 kept an accumulator on the
     * stack.)
     */
    static final int TOKEN_TILE = L >= 16 ? 8 : 6;
    static final int ROW_TILE = L >= 16 ? 3 : 2;
    /**
     * Longest K block, in columns: as long as the x that a token tile keeps in L1 stays well inside 48 KiB, since
     * each K block costs a load and a store of every accumulator and a tile call's fixed cost. That x is one
     * chain's: with AVX-512 (one chain) 8 tokens x 1024 columns, 32 KiB; with AVX2 6 tokens x half of 2560
     * columns, 30 KiB. Against 512 columns, 1024 ran x1.01-1.09 with AVX-512; with AVX2, chain-major blocks of
     * up to 2560 columns ran x1.01-1.09 against column-order blocks of up to 1280 (bench/RESULTS.md). See
     * kBlockLength.
     */
    static final int K_BLOCK = L >= 16 ? 1024 : 2560;
    /**
     * K blocks per widening span: AVX2's blocks are long runs alone; AVX-512's are widened three at a time, so that
     * rows of up to 3072 columns (Gemma-2-2B's 2304) are one span and each token tile's sums are done at once (see
     * matmulRows): against two at a time, 18432 x 2304 ran x1.03-1.05 in-process and Gemma-2-2B's prefill x1.00-1.04.
     */
    static final int BLOCKS_PER_SPAN = L >= 16 ? 3 : 1;
    static final int TOKEN_BLOCK = 128;
    /** Whole token tiles per token block (with 6-token tiles, a block's last 2 tokens take the one-token path). */
    private static final int TILES_PER_BLOCK = TOKEN_BLOCK / TOKEN_TILE;
    /**
     * Most columns of a chunk's rows widened to f32 at a time (a span: BLOCKS_PER_SPAN K blocks, each of which then
     * reads its part): long runs of each row, which the hardware prefetcher follows, where one K block's 1 KiB
     * pieces of 24 rows left the widening stalled on memory. The f32 block takes 576 KiB (AVX-512) or 480 KiB (AVX2), L2-resident.
     */
    static final int WIDEN_SPAN = BLOCKS_PER_SPAN * K_BLOCK;
    /**
     * Rows per chunk: a multiple of ROW_TILE (3 or 2) and of 16, so that the lane sums take whole groups of L rows. A
     * chunk x token block's accumulators take 384 KiB. Each chunk streams all of packed x through L1 once per K block,
     * which for the 4.7 MiB x of a 9216-column down projection comes from L3: against 24-row chunks, 48 ran the
     * Gemma-2-2B shapes x1.05-1.10 faster in-process with AVX2, and end to end prefill gained x1.02 with AVX2 and
     * x1.01-1.15 with AVX-512, with fewer slow runs; 72 rows were no faster than 48, 96 slower (bench/RESULTS.md).
     */
    static final int CHUNK_ROWS = 48;

    /**
     * Bytes of weights per chunk of the BF16 decode path (decodeBF16 reads a chunk as four runs of about 1 MiB):
     * 4 MiB chunks kept up with memory a little better than 64-row chunks (256 KiB at 2048 columns) when each
     * chunk was one run; see bench/RESULTS.md.
     */
    static final long DECODE_CHUNK_BYTES = 4L << 20;
    /** Bounds on a decode chunk's rows, which are a multiple of 16: whole lane-sum groups (L <= 16) and DECODE_ROWS parts. */
    static final int DECODE_MIN_CHUNK_ROWS = 16, DECODE_MAX_CHUNK_ROWS = 1024;
    /** Rows the BF16 decode path streams together (see decodeBF16). */
    static final int DECODE_ROWS = 4;

    /**
     * Bytes per BF16 weight, a compile-time constant for the decode loops' addresses (C2 does not fold
     * DType.BF16.bytes, an enum's field). With it and a plain {@code c < pairEnd} bound the two-chain loop
     * compiles to a counted loop; before, it kept a range check and a safepoint poll in every iteration.
     */
    private static final int BF16_BYTES = 2;

    /** Floats of the tiled path's accumulators for a chunk x token block, all chains (see groupAccumulators). */
    private static final int BLOCK_ACCUMULATORS = CHAINS * CHUNK_ROWS * TOKEN_BLOCK * L;

    /** Per-thread scratch: a chunk's f32 weight block, its vector accumulators, and lane sums. */
    private static final class Scratch {
        final float[] block = new float[CHUNK_ROWS * WIDEN_SPAN + CacheLineAlignment.SLACK_FLOATS];
        final float[] accumulators = new float[BLOCK_ACCUMULATORS + CacheLineAlignment.SLACK_FLOATS];
        /** Decode's lane sums of L rows. */
        final float[] sums = new float[L];
        /** A BF16 decode chunk's row accumulators, lane-summed L rows at a time at the end of the chunk. */
        final float[] decodeAccumulators = new float[DECODE_MAX_CHUNK_ROWS * L];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private MatMul() {}

    public static void matmul(float[] x, int T, WeightMatrix w, float[] out) {
        matmulEach(x, T, new WeightMatrix[] {w}, new float[][] {out});
    }

    /**
     * outs[i] = x W_i^T for every i (each as {@link #matmul}, same bits), in one pass over the threads: the
     * chunks of all the matrices go to the pool as one job, so the q/k/v or gate/up projections of a layer
     * cost one hand-off and one wait for the slowest chunk instead of one each, and x is packed once.
     * The matrices must share their column count.
     */
    public static void matmulEach(float[] x, int T, WeightMatrix[] ws, float[][] outs) {
        if (ws.length != outs.length) {
            throw new IllegalArgumentException("matmulEach: " + ws.length + " matrices but " + outs.length + " outputs");
        }
        for (int i = 0; i < ws.length; i++) {
            if (ws[i].cols() != ws[0].cols()) {
                throw new IllegalArgumentException("matmulEach: matrix " + i + " has " + ws[i].cols() + " columns, matrix 0 has " + ws[0].cols());
            }
            checkShapes(x, T, ws[i], outs[i]);
            for (int j = 0; j < i; j++) {
                if (outs[j] == outs[i]) throw new IllegalArgumentException("matmulEach: outputs " + j + " and " + i + " are the same array");
            }
        }
        if (T == 0 || ws.length == 0) return;
        boolean decode = T == 1 && Arrays.stream(ws).allMatch(w -> w.dtype() == DType.BF16);
        // firstChunk[i]: the index of matrix i's first chunk in the joint numbering.
        int[] chunkRows = new int[ws.length], firstChunk = new int[ws.length + 1];
        for (int i = 0; i < ws.length; i++) {
            chunkRows[i] = decode ? decodeChunkRows(ws[i]) : CHUNK_ROWS;
            firstChunk[i + 1] = firstChunk[i] + (ws[i].rows() + chunkRows[i] - 1) / chunkRows[i];
        }
        PackedTokens packed = decode ? null : packTokenTiles(x, T, ws[0].cols());
        Parallel.forChunks(firstChunk[ws.length], 1, (c, unused) -> {
            int i = 0;
            while (c >= firstChunk[i + 1]) i++;
            WeightMatrix w = ws[i];
            int r0 = (c - firstChunk[i]) * chunkRows[i], r1 = Math.min(w.rows(), r0 + chunkRows[i]);
            if (decode) decodeBF16(x, w, outs[i], r0, r1);
            else matmulRows(x, packed, T, w, outs[i], r0, r1);
        });
    }

    /**
     * Rows per decode chunk of w: about {@link #DECODE_CHUNK_BYTES}, but at most a quarter of the rows per thread
     * (so that small matrices still spread over the threads), rounded down to a multiple of 16.
     */
    static int decodeChunkRows(WeightMatrix w) {
        long rowBytes = Math.max(1, (long) w.cols() * DType.BF16.bytes);
        long rows = Math.min(DECODE_CHUNK_BYTES / rowBytes, w.rows() / (4L * Parallel.threads()));
        return Math.clamp(rows / 16 * 16, DECODE_MIN_CHUNK_ROWS, DECODE_MAX_CHUNK_ROWS);
    }

    /**
     * The whole token tiles of each token block of x, each laid out chain by chain and, within a chain,
     * column-vector by column-vector with its TOKEN_TILE tokens side by side: from {@link PackedTokens#tileStart},
     * token i's vector v (columns [vL, vL+L)) sits at (v mod CHAINS) * chainRegion + (v / CHAINS) * TOKEN_TILE * L
     * + i*L. A register tile then reads one contiguous stream instead of TOKEN_TILE rows a whole row length apart,
     * which map to the same L1 sets when rows are 8 or 32 KiB long. A block's tokens past
     * its last whole tile are not packed (the one-token tiles read them from x). The tiles start on a cache line (see
     * {@link CacheLineAlignment}), and so does every vector in them.
     */
    private static PackedTokens packTokenTiles(float[] x, int T, int cols) {
        int upper = F.loopBound(cols);
        int lastBlock = (T - 1) / TOKEN_BLOCK, lastTiles = (T - lastBlock * TOKEN_BLOCK) / TOKEN_TILE;
        int tiles = lastBlock * TILES_PER_BLOCK + lastTiles;
        int chainRegion = chainRegion(upper);
        float[] values = packBuffer(tiles * CHAINS * chainRegion + CacheLineAlignment.SLACK_FLOATS);
        PackedTokens packed = new PackedTokens(values, CacheLineAlignment.firstAlignedIndex(values));
        // Tile g holds tokens from g / TILES_PER_BLOCK * TOKEN_BLOCK + g % TILES_PER_BLOCK * TOKEN_TILE on. Spread over
        // the threads: alone, the caller spent 1% of a two-thread prefill here while the workers waited.
        Parallel.forRange(tiles, g -> {
            int base = packed.start() + g * CHAINS * chainRegion;
            int first = g / TILES_PER_BLOCK * TOKEN_BLOCK + g % TILES_PER_BLOCK * TOKEN_TILE;
            for (int i = 0; i < TOKEN_TILE; i++) {
                int row = (first + i) * cols;
                for (int v = 0; v < upper / L; v++) {
                    FloatVector.fromArray(F, x, row + v * L).intoArray(values, base + v % CHAINS * chainRegion + v / CHAINS * TOKEN_TILE * L + i * L);
                }
            }
        });
        return packed;
    }

    /**
     * The K block length for rows of `upper` whole-vector columns (a multiple of CHAIN_STEP, so that every block
     * starts on chain 0). With AVX2, as few even blocks of at most K_BLOCK columns as the row allows, the last
     * one shorter: a tile call costs about 40 cycles besides its loop (6 cycles per 12 FMAs), so long calls pay;
     * with 1024-column blocks Gemma's 2304 columns ran x1.04-1.17 faster as two blocks of 1152 than as
     * 1024 + 1024 + 256. AVX-512 keeps whole blocks of K_BLOCK: even blocks measured x0.90-1.02 there.
     */
    static int kBlockLength(int upper) {
        if (L >= 16) return K_BLOCK;
        int blocks = Math.max(1, (upper + K_BLOCK - 1) / K_BLOCK);
        int even = (upper + blocks - 1) / blocks;
        return (even + CHAIN_STEP - 1) / CHAIN_STEP * CHAIN_STEP;
    }

    /** Floats of chain h's vectors among the first n (a multiple of L) columns of a K block. */
    private static int chainFloats(int n, int h) {
        return (n / L - h + CHAINS - 1) / CHAINS * L;
    }

    /** Floats of one chain's vectors in a packed token tile: the row's whole vectors, a chain's share rounded up. */
    private static int chainRegion(int upper) {
        return (upper / L + CHAINS - 1) / CHAINS * TOKEN_TILE * L;
    }

    /**
     * The calling thread's packing buffer, reused from call to call up to {@link #REUSED_PACK_FLOATS} floats: a fresh
     * array per call (1.2 to 4.7 MiB at T = 128 on Gemma-2-2B, zeroed by the caller while the workers wait) took
     * 1.5% of a two-thread prefill. Every float a tile reads is written by packTokenTiles first, so stale values do
     * no harm. The buffer is only read while its matmulEach call runs, which holds the calling thread.
     */
    private static float[] packBuffer(int floats) {
        if (floats > REUSED_PACK_FLOATS) return new float[floats];
        float[] buffer = PACK_BUFFER.get();
        if (buffer.length < floats) PACK_BUFFER.set(buffer = new float[floats]);
        return buffer;
    }

    /** Largest packing buffer kept per thread: 16 MiB, T = 128 at 32768 columns. Longer inputs allocate per call. */
    private static final int REUSED_PACK_FLOATS = 4 << 20;
    private static final ThreadLocal<float[]> PACK_BUFFER = ThreadLocal.withInitial(() -> new float[0]);

    /** x packed in token tiles (see packTokenTiles), the first tile at values[start]. */
    private record PackedTokens(float[] values, int start) {
        /** Where the tile of tokens t0 + t .. t0 + t + TOKEN_TILE - 1 starts (t0 a block start, t a multiple of TOKEN_TILE). */
        int tileStart(int t0, int t, int upper) {
            return start + (t0 / TOKEN_BLOCK * TILES_PER_BLOCK + t / TOKEN_TILE) * CHAINS * chainRegion(upper);
        }
    }

    /** Plain scalar reference: one dot product per output, summed left to right, single-threaded. */
    public static void matmulReference(float[] x, int T, WeightMatrix w, float[] out) {
        checkShapes(x, T, w, out);
        int rows = w.rows(), cols = w.cols();
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < rows; r++) {
                float sum = 0f;
                for (int c = 0; c < cols; c++) sum += x[t * cols + c] * w.get(r, c);
                out[t * rows + r] = sum;
            }
        }
    }

    private static void checkShapes(float[] x, int T, WeightMatrix w, float[] out) {
        if (T < 0) throw new IllegalArgumentException("matmul: T must be >= 0, got " + T);
        if (x == out) throw new IllegalArgumentException("matmul: out must not be the same array as x");
        if ((long) T * w.cols() > x.length) {
            throw new IllegalArgumentException("matmul: x has " + x.length + " floats, need T*cols = " + T + "*" + w.cols());
        }
        if ((long) T * w.rows() > out.length) {
            throw new IllegalArgumentException("matmul: out has " + out.length + " floats, need T*rows = " + T + "*" + w.rows());
        }
    }

    /** All T tokens for weight rows [r0, r1), at most CHUNK_ROWS of them. */
    private static void matmulRows(float[] x, PackedTokens packed, int T, WeightMatrix w, float[] out, int r0, int r1) {
        int cols = w.cols();
        int upper = F.loopBound(cols);
        Scratch scratch = SCRATCH.get();
        float[] block = scratch.block, acc = scratch.accumulators, xp = packed.values();
        // Where the block and the accumulators start a cache line now (the GC may have moved them since the last call).
        int blockAt = CacheLineAlignment.firstAlignedIndex(block), accAt = CacheLineAlignment.firstAlignedIndex(acc);
        int kBlock = kBlockLength(upper), span = BLOCKS_PER_SPAN * kBlock, half = kBlock / CHAINS;
        int panels = (r1 - r0) / ROW_TILE;
        int fullPanelEnd = r0 + panels * ROW_TILE;
        // When the rows are one span, a token group's sums are final once its tiles have run: the group is summed
        // into out at once and the next group reuses its accumulators, a few KiB that stay in L1 and L2. Otherwise
        // every group keeps its own until the last span (see groupAccumulators).
        boolean oneSpan = upper > 0 && upper <= span;
        for (int t0 = 0; t0 < T; t0 += TOKEN_BLOCK) {
            int tokens = Math.min(TOKEN_BLOCK, T - t0), tiled = tokens / TOKEN_TILE * TOKEN_TILE;
            for (int s0 = 0; s0 < upper; s0 += span) {
                int spanEnd = Math.min(upper, s0 + span);
                widenSpan(w, r0, r1, s0, spanEnd, kBlock, block, blockAt, half);
                // Token groups: the whole tiles, then the tokens left over. Row r's part of the K block starting at
                // column k0 sits at (k0 - s0) / kBlock * CHUNK_ROWS * kBlock + (r-r0) * kBlock of the span's f32 block,
                // chain h's vectors from h * half on. Chain h takes the block's vectors h, h + CHAINS, ... (K blocks
                // start at multiples of CHAIN_STEP), which lie side by side in the f32 block and in packed x
                // (chain-major). A token tile passes over the chunk's rows chain by chain, so only one chain's x needs
                // to stay in L1 and every weight line comes from L2 once per tile, wholly used; and a tile's loop runs
                // over a whole chain of its K block.
                for (int t = 0; t < tiled; t += TOKEN_TILE) {
                    int a0 = groupAccumulators(accAt, t, oneSpan), step = TOKEN_TILE * L;
                    for (int k0 = s0; k0 < spanEnd; k0 += kBlock) {
                        int n = Math.min(kBlock, spanEnd - k0), kb = blockAt + (k0 - s0) / kBlock * CHUNK_ROWS * kBlock;
                        boolean first = k0 == 0;
                        int xTile = packed.tileStart(t0, t, upper) + k0 / CHAIN_STEP * TOKEN_TILE * L;
                        for (int h = 0; h < CHAINS; h++) {
                            int x0 = xTile + h * chainRegion(upper), m = chainFloats(n, h);
                            for (int r = r0; r < fullPanelEnd; r += ROW_TILE) {
                                int a = a0 + h * CHUNK_ROWS * step + (r - r0) * step;
                                int b = kb + h * half + (r - r0) * kBlock;
                                if (TOKEN_TILE == 8) tile8x3(xp, x0, block, b, kBlock, m, acc, a, step, first);
                                else tile6x2(xp, x0, block, b, kBlock, m, acc, a, step, first);
                            }
                            lastRows(x, (t0 + t) * cols + k0 + h * L, cols, TOKEN_TILE, block, kb + h * half, kBlock, m,
                                    acc, a0 + h * CHUNK_ROWS * step, step, r0, fullPanelEnd, r1, first);
                        }
                    }
                    if (oneSpan) sumGroup(x, w, out, t0 + t, TOKEN_TILE, r0, r1, acc, a0, upper);
                }
                if (tiled < tokens) {
                    int left = tokens - tiled, a0 = groupAccumulators(accAt, tiled, oneSpan);
                    for (int k0 = s0; k0 < spanEnd; k0 += kBlock) {
                        int n = Math.min(kBlock, spanEnd - k0), kb = blockAt + (k0 - s0) / kBlock * CHUNK_ROWS * kBlock;
                        leftoverTokens(x, cols, t0 + tiled, left, k0, n, block, kb, kBlock, r0, r1, fullPanelEnd, acc, a0, k0 == 0);
                    }
                    if (oneSpan) sumGroup(x, w, out, t0 + tiled, left, r0, r1, acc, a0, upper);
                }
            }
            if (!oneSpan) { // the whole tiles, then the leftover tokens, as groups of at most TOKEN_TILE
                for (int t = 0; t < tokens; t += TOKEN_TILE) {
                    sumGroup(x, w, out, t0 + t, Math.min(TOKEN_TILE, tokens - t), r0, r1, acc, groupAccumulators(accAt, t, false), upper);
                }
            }
        }
    }

    /**
     * Where the accumulators of the token group starting at token t of a block begin. For a group of g tokens, token
     * i's for row r and chain h are at a0 + (h * CHUNK_ROWS + r - r0) * g * L + i * L: a row's g tokens side by side,
     * so that the lane sums read L rows g * L floats apart. Groups that keep their sums across spans lie one after
     * another (CHAINS * CHUNK_ROWS * L floats per token); with oneSpan every group reuses the first one's.
     */
    private static int groupAccumulators(int accAt, int t, boolean oneSpan) {
        return oneSpan ? accAt : accAt + t * CHAINS * CHUNK_ROWS * L;
    }

    /**
     * The tokens after the block's whole tiles (g < TOKEN_TILE of them, from token `first`) over the K block at k0
     * (n columns, the chunk's rows from kb in the f32 block): AVX2 takes them two at a time over four rows (eight FMA
     * chains in flight, where one token over two rows waited on the FMA latency), AVX-512 four at a time over three
     * rows, and the rest one at a time. Each token's chain is read from x itself (every CHAINS-th vector).
     */
    private static void leftoverTokens(float[] x, int cols, int first, int g, int k0, int n, float[] block, int kb, int kBlock,
                                       int r0, int r1, int fullPanelEnd, float[] acc, int a0, boolean firstBlock) {
        int step = g * L, half = kBlock / CHAINS;
        for (int h = 0; h < CHAINS; h++) {
            int chainAcc = a0 + h * CHUNK_ROWS * step, m = chainFloats(n, h), chainAt = kb + h * half;
            int u = 0;
            for (; ROW_TILE == 2 && u + 2 <= g; u += 2) {
                int x0 = (first + u) * cols + k0 + h * L, r = r0;
                for (; r + 4 <= fullPanelEnd; r += 4) {
                    tile2x4(x, x0, cols, block, chainAt + (r - r0) * kBlock, kBlock, m, acc, chainAcc + (r - r0) * step + u * L, step, firstBlock);
                }
                for (; r < fullPanelEnd; r += ROW_TILE) {
                    int b = chainAt + (r - r0) * kBlock, a = chainAcc + (r - r0) * step + u * L;
                    tile1x2(x, x0, block, b, kBlock, m, acc, a, step, firstBlock);
                    tile1x2(x, x0 + cols, block, b, kBlock, m, acc, a + L, step, firstBlock);
                }
            }
            for (; ROW_TILE == 3 && u + 4 <= g; u += 4) {
                int x0 = (first + u) * cols + k0 + h * L;
                for (int r = r0; r < fullPanelEnd; r += ROW_TILE) {
                    tile4x3(x, x0, cols, block, chainAt + (r - r0) * kBlock, kBlock, m, acc, chainAcc + (r - r0) * step + u * L, step, firstBlock);
                }
            }
            for (; u < g; u++) {
                int x0 = (first + u) * cols + k0 + h * L;
                for (int r = r0; r < fullPanelEnd; r += ROW_TILE) {
                    int b = chainAt + (r - r0) * kBlock, a = chainAcc + (r - r0) * step + u * L;
                    if (ROW_TILE == 3) tile1x3(x, x0, block, b, kBlock, m, acc, a, step, firstBlock);
                    else tile1x2(x, x0, block, b, kBlock, m, acc, a, step, firstBlock);
                }
            }
            lastRows(x, first * cols + k0 + h * L, cols, g, block, chainAt, kBlock, m, acc, chainAcc, step, r0, fullPanelEnd, r1, firstBlock);
        }
    }

    /**
     * The chunk's rows [from, r1) past its last whole panel (only a matrix's last chunk has them), one row and one of
     * g tokens at a time: token v's chain from x at x0 + v * cols, row r's from the block at chainAt + (r - r0) * kBlock,
     * their accumulator at chainAcc + (r - r0) * step + v * L.
     */
    private static void lastRows(float[] x, int x0, int cols, int g, float[] block, int chainAt, int kBlock, int m,
                                 float[] acc, int chainAcc, int step, int r0, int from, int r1, boolean firstBlock) {
        for (int r = from; r < r1; r++) {
            for (int v = 0; v < g; v++) {
                tile1x1(x, x0 + v * cols, block, chainAt + (r - r0) * kBlock, m, acc, chainAcc + (r - r0) * step + v * L, firstBlock);
            }
        }
    }

    /**
     * A token group's outputs for rows [r0, r1): its chains added, then each token's lanes summed in the fixed tree L
     * rows at a time, so that the L sums come out side by side as the token's outputs for those rows, one vector
     * store into out (summed L tokens of a row at a time instead, the sums had to be scattered to out one by one: 5-6%
     * of a Gemma-2-2B prefill with AVX2, in JFR); then the columns past the last whole vector, in order.
     */
    private static void sumGroup(float[] x, WeightMatrix w, float[] out, int first, int g, int r0, int r1, float[] acc, int a0, int upper) {
        int cols = w.cols(), rows = w.rows(), step = g * L;
        int other = CHAINS == 2 ? CHUNK_ROWS * step : 0; // chain 1's accumulators, added to chain 0's as they are loaded
        for (int u = 0; u < g; u++) {
            int o = (first + u) * rows, r = r0;
            if (upper == 0) Arrays.fill(out, o + r0, o + r1, 0f);
            else {
                for (; r + L <= r1; r += L) Vec.sumLanesOfEach(acc, a0 + (r - r0) * step + u * L, step, other, out, o + r);
                for (; r < r1; r++) out[o + r] = Vec.sumLanesAt(acc, a0 + (r - r0) * step + u * L, other);
            }
            if (upper < cols) {
                for (r = r0; r < r1; r++) {
                    float sum = out[o + r];
                    for (int c = upper; c < cols; c++) sum = Math.fma(x[(first + u) * cols + c], w.get(r, c), sum);
                    out[o + r] = sum;
                }
            }
        }
    }

    /**
     * Decode (T = 1) with BF16 weights, rows [r0, r1): each row streamed once from memory and widened in
     * registers, {@link #DECODE_ROWS} rows at a time so that they share each x load. Those rows lie a quarter of
     * the chunk apart (rows r0 + j, r0 + j + part, r0 + j + 2*part, r0 + j + 3*part), not side by side. On the
     * Llama-3.2-1B matrices, with AVX2, four adjacent rows streamed at 0.54-0.74 of a plain read, single rows
     * at 0.51-0.85 and four rows a quarter chunk apart at 0.79-1.16; with AVX-512, single rows at 0.84-1.11,
     * eight adjacent rows (long rows) at 0.71-0.84 and four spaced rows at 0.87-1.23 (bench/RESULTS.md). The
     * summation order is the one above whichever rows go together, so this gives the same bits as the tiled path.
     */
    private static void decodeBF16(float[] x, WeightMatrix w, float[] out, int r0, int r1) {
        Scratch scratch = SCRATCH.get();
        float[] acc = scratch.decodeAccumulators, sums = scratch.sums;
        int part = (r1 - r0) / DECODE_ROWS;
        for (int j = 0; j < part; j++) {
            if (CHAINS == 1) decodeFourRowsBF16(x, w, r0 + j, part, acc, j * L);
            else decodeFourRowsTwoChainsBF16(x, w, r0 + j, part, acc, j * L);
        }
        for (int r = r0 + part * DECODE_ROWS; r < r1; r++) {
            (CHAINS == 1 ? decodeRowBF16(x, w, r) : decodeRowTwoChainsBF16(x, w, r)).intoArray(acc, (r - r0) * L);
        }
        // The lane sums L rows at a time, off the rows' critical path (one reduction tree per row was a serial
        // tail behind every row's last load), then the columns past the last whole vector.
        int upper = F.loopBound(w.cols());
        for (int g = r0; g < r1; g += L) {
            int group = Math.min(L, r1 - g);
            sumLanesOfGroup(acc, (g - r0) * L, group, upper, sums);
            for (int k = 0; k < group; k++) {
                float sum = sums[k];
                for (int c = upper; c < w.cols(); c++) sum = Math.fma(x[c], w.get(g + k, c), sum);
                out[g + k] = sum;
            }
        }
    }

    /**
     * sums[k] = the lane sum of the accumulator at acc[offset + k*L], for k < group <= L (all zero when there
     * was no whole vector to accumulate, upper == 0): the batched tree for a whole group, the same tree one by one
     * otherwise.
     */
    private static void sumLanesOfGroup(float[] acc, int offset, int group, int upper, float[] sums) {
        if (upper == 0) Arrays.fill(sums, 0, group, 0f);
        else if (group == L) Vec.sumLanesOfEach(acc, offset, L, sums, 0);
        else for (int k = 0; k < group; k++) sums[k] = Vec.sumLanesAt(acc, offset + k * L);
    }

    /** Row r's L-lane accumulator (its lanes not yet summed). */
    private static FloatVector decodeRowBF16(float[] x, WeightMatrix w, int r) {
        int upper = F.loopBound(w.cols());
        MemorySegment data = w.data();
        long row = w.offset(r, 0);
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < upper; c += L) {
            acc = FloatVector.fromArray(F, x, c).fma(Vec.loadBF16(data, row + (long) c * BF16_BYTES), acc);
        }
        return acc;
    }

    /** Row r's two chains (see the summation order), added lane-wise. */
    private static FloatVector decodeRowTwoChainsBF16(float[] x, WeightMatrix w, int r) {
        int upper = F.loopBound(w.cols());
        MemorySegment data = w.data();
        long row = w.offset(r, 0);
        FloatVector even = FloatVector.zero(F), odd = even;
        int pairEnd = upper - upper % (2 * L), c = 0;
        for (; c < pairEnd; c += 2 * L) {
            long at = row + (long) c * BF16_BYTES;
            even = FloatVector.fromArray(F, x, c).fma(Vec.loadBF16(data, at), even);
            odd = FloatVector.fromArray(F, x, c + L).fma(Vec.loadBF16(data, at + (long) L * BF16_BYTES), odd);
        }
        if (c < upper) even = FloatVector.fromArray(F, x, c).fma(Vec.loadBF16(data, row + (long) c * BF16_BYTES), even);
        return even.add(odd);
    }

    /**
     * Rows r, r + step, r + 2*step and r + 3*step: their two chains each, added lane-wise, into acc at a0,
     * a0 + step*L, a0 + 2*step*L and a0 + 3*step*L. Each row's two accumulators swap roles
     * after every vector (the one that just took an FMA waits while the other takes the next) instead of an
     * unrolled pair of vectors and a tail as above: only their sum is used, which does not depend on which is
     * which, and this form streamed 8192-column rows a little faster (0.78 vs 0.73 of a plain read).
     */
    private static void decodeFourRowsTwoChainsBF16(float[] x, WeightMatrix w, int r, int step, float[] acc, int a0) {
        int upper = F.loopBound(w.cols());
        MemorySegment data = w.data();
        long rowBytes = (long) w.cols() * BF16_BYTES * step;
        long w0 = w.offset(r, 0);
        FloatVector t0 = FloatVector.zero(F), t1 = t0, t2 = t0, t3 = t0, u0 = t0, u1 = t0, u2 = t0, u3 = t0;
        for (int c = 0; c < upper; c += L) {
            long at = w0 + (long) c * BF16_BYTES;
            FloatVector xv = FloatVector.fromArray(F, x, c);
            FloatVector s0 = xv.fma(Vec.loadBF16(data, at), t0);
            FloatVector s1 = xv.fma(Vec.loadBF16(data, at + rowBytes), t1);
            FloatVector s2 = xv.fma(Vec.loadBF16(data, at + 2 * rowBytes), t2);
            FloatVector s3 = xv.fma(Vec.loadBF16(data, at + 3 * rowBytes), t3);
            t0 = u0; t1 = u1; t2 = u2; t3 = u3;
            u0 = s0; u1 = s1; u2 = s2; u3 = s3;
        }
        int accStep = step * L;
        t0.add(u0).intoArray(acc, a0);
        t1.add(u1).intoArray(acc, a0 + accStep);
        t2.add(u2).intoArray(acc, a0 + 2 * accStep);
        t3.add(u3).intoArray(acc, a0 + 3 * accStep);
    }

    /** Rows r, r + step, r + 2*step and r + 3*step: their accumulators, into acc at a0, a0 + step*L, ... */
    private static void decodeFourRowsBF16(float[] x, WeightMatrix w, int r, int step, float[] acc, int a0) {
        int upper = F.loopBound(w.cols());
        MemorySegment data = w.data();
        long rowBytes = (long) w.cols() * BF16_BYTES * step;
        long w0 = w.offset(r, 0);
        FloatVector v0 = FloatVector.zero(F), v1 = v0, v2 = v0, v3 = v0;
        for (int c = 0; c < upper; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, c);
            long at = w0 + (long) c * BF16_BYTES;
            v0 = xv.fma(Vec.loadBF16(data, at), v0);
            v1 = xv.fma(Vec.loadBF16(data, at + rowBytes), v1);
            v2 = xv.fma(Vec.loadBF16(data, at + 2 * rowBytes), v2);
            v3 = xv.fma(Vec.loadBF16(data, at + 3 * rowBytes), v3);
        }
        int accStep = step * L;
        v0.intoArray(acc, a0);
        v1.intoArray(acc, a0 + accStep);
        v2.intoArray(acc, a0 + 2 * accStep);
        v3.intoArray(acc, a0 + 3 * accStep);
    }

    /**
     * Rows [r0, r1) of the span [s0, spanEnd) widened into the chunk's f32 block, chain-major: row r's part of the
     * K block starting at k0 to blockAt + (k0 - s0) / kBlock * CHUNK_ROWS * kBlock + (r - r0) * kBlock. BF16 rows
     * go four at a time, a quarter of the chunk apart: one core read a chunk's rows one after the other at
     * 4.3-4.8 GB/s and four such streams at 5.5-8.3 GB/s (bench/RESULTS.md), and prefill waits on these reads.
     */
    private static void widenSpan(WeightMatrix w, int r0, int r1, int s0, int spanEnd, int kBlock, float[] block, int blockAt, int half) {
        int quarter = w.dtype() == DType.BF16 ? (r1 - r0) / 4 : 0;
        for (int j = 0; j < quarter; j++) {
            for (int k0 = s0; k0 < spanEnd; k0 += kBlock) {
                int d = blockAt + (k0 - s0) / kBlock * CHUNK_ROWS * kBlock + j * kBlock;
                widenFourRowsBF16(w.data(), w.offset(r0 + j, k0), (long) quarter * w.cols() * BF16_BYTES,
                        (Math.min(spanEnd, k0 + kBlock) - k0) / L, block, d, quarter * kBlock, half);
            }
        }
        for (int r = r0 + 4 * quarter; r < r1; r++) {
            for (int k0 = s0; k0 < spanEnd; k0 += kBlock) {
                int d = blockAt + (k0 - s0) / kBlock * CHUNK_ROWS * kBlock + (r - r0) * kBlock;
                widen(w, r, k0, Math.min(spanEnd, k0 + kBlock), block, d, half, L);
            }
        }
    }

    /** Rows at from + i * rowStep (i < 4) as widenBF16 would lay them out chain-major, row i's at d + i * dstStep. */
    private static void widenFourRowsBF16(MemorySegment data, long from, long rowStep, int vectors, float[] dst, int d, int dstStep, int half) {
        for (int v = 0; v < vectors; v++) {
            long at = from + (long) v * L * BF16_BYTES;
            int to = d + v % CHAINS * half + v / CHAINS * L;
            Vec.loadBF16(data, at).intoArray(dst, to);
            Vec.loadBF16(data, at + rowStep).intoArray(dst, to + dstStep);
            Vec.loadBF16(data, at + 2 * rowStep).intoArray(dst, to + 2 * dstStep);
            Vec.loadBF16(data, at + 3 * rowStep).intoArray(dst, to + 3 * dstStep);
        }
    }

    /**
     * Decodes W[r, c0..c1) to f32 into dst starting at dstOffset. One small method per dtype: with the three loops
     * in one method, C2 inlined the F16 loader and then found Vec.loadBF16 "too big" to inline, so every BF16
     * vector went through an out-of-line call that boxed it and ran the Vector API's Java fallback for the
     * reinterpretation: 14% of a Llama-3.2-1B prefill (JFR, AVX2).
     */
    static void decodeRow(WeightMatrix w, int r, int c0, int c1, float[] dst, int dstOffset) {
        int upper = c0 + F.loopBound(c1 - c0);
        widen(w, r, c0, upper, dst, dstOffset, L, CHAIN_STEP);
        long base = w.offset(r, 0);
        for (int c = upper; c < c1; c++) dst[dstOffset + c - c0] = WeightMatrix.decode(w.data(), w.dtype(), base + (long) c * w.dtype().bytes);
    }

    /**
     * The whole vectors of W[r, c0..c1) (c0 a multiple of CHAIN_STEP) widened to f32, vector v (columns
     * c0 + vL ..) to dst at dstOffset + (v mod CHAINS) * half + (v / CHAINS) * stride: in column order with
     * half = L and stride = CHAIN_STEP; chain-major (each chain's vectors side by side, chain h's from h * half)
     * with stride = L.
     */
    private static void widen(WeightMatrix w, int r, int c0, int c1, float[] dst, int dstOffset, int half, int stride) {
        MemorySegment data = w.data();
        long from = w.offset(r, c0);
        int vectors = (c1 - c0) / L;
        switch (w.dtype()) {
            case BF16 -> widenBF16(data, from, vectors, dst, dstOffset, half, stride);
            case F16 -> widenF16(data, from, vectors, dst, dstOffset, half, stride);
            case F32 -> widenF32(data, from, vectors, dst, dstOffset, half, stride);
        }
    }

    private static void widenBF16(MemorySegment data, long from, int vectors, float[] dst, int d, int half, int stride) {
        for (int v = 0; v < vectors; v++) {
            Vec.loadBF16(data, from + (long) v * L * BF16_BYTES).intoArray(dst, d + v % CHAINS * half + v / CHAINS * stride);
        }
    }

    private static void widenF16(MemorySegment data, long from, int vectors, float[] dst, int d, int half, int stride) {
        for (int v = 0; v < vectors; v++) {
            Vec.loadF16(data, from + (long) v * L * Short.BYTES).intoArray(dst, d + v % CHAINS * half + v / CHAINS * stride);
        }
    }

    private static void widenF32(MemorySegment data, long from, int vectors, float[] dst, int d, int half, int stride) {
        for (int v = 0; v < vectors; v++) {
            Vec.loadF32(data, from + (long) v * L * Float.BYTES).intoArray(dst, d + v % CHAINS * half + v / CHAINS * stride);
        }
    }

    private static FloatVector load(float[] acc, int index, boolean first) {
        return first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, index);
    }

    /**
     * Eight tokens times three weight rows over one chain's n / L vectors, which lie side by side (chain-major):
     * the c-th floats of them at xp[x0 + c*TOKEN_TILE + i*L] for token i and at block[b + j*rowStride + c] for row j.
     * Accumulator of (token i, row j) at acc[a + j*rowStep + i*L].
     */
    private static void tile8x3(float[] xp, int x0, float[] block, int b, int rowStride, int n,
                                float[] acc, int a, int rowStep, boolean first) {
        int w0 = b, w1 = b + rowStride, w2 = b + 2 * rowStride;
        int c0 = a, c1 = a + rowStep, c2 = a + 2 * rowStep;
        FloatVector a00 = load(acc, c0, first), a01 = load(acc, c1, first), a02 = load(acc, c2, first);
        FloatVector a10 = load(acc, c0 + L, first), a11 = load(acc, c1 + L, first), a12 = load(acc, c2 + L, first);
        FloatVector a20 = load(acc, c0 + 2 * L, first), a21 = load(acc, c1 + 2 * L, first), a22 = load(acc, c2 + 2 * L, first);
        FloatVector a30 = load(acc, c0 + 3 * L, first), a31 = load(acc, c1 + 3 * L, first), a32 = load(acc, c2 + 3 * L, first);
        FloatVector a40 = load(acc, c0 + 4 * L, first), a41 = load(acc, c1 + 4 * L, first), a42 = load(acc, c2 + 4 * L, first);
        FloatVector a50 = load(acc, c0 + 5 * L, first), a51 = load(acc, c1 + 5 * L, first), a52 = load(acc, c2 + 5 * L, first);
        FloatVector a60 = load(acc, c0 + 6 * L, first), a61 = load(acc, c1 + 6 * L, first), a62 = load(acc, c2 + 6 * L, first);
        FloatVector a70 = load(acc, c0 + 7 * L, first), a71 = load(acc, c1 + 7 * L, first), a72 = load(acc, c2 + 7 * L, first);
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, block, w0 + c);
            FloatVector v1 = FloatVector.fromArray(F, block, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, block, w2 + c);
            int xc = x0 + c * TOKEN_TILE;
            FloatVector xv = FloatVector.fromArray(F, xp, xc);
            a00 = xv.fma(v0, a00); a01 = xv.fma(v1, a01); a02 = xv.fma(v2, a02);
            xv = FloatVector.fromArray(F, xp, xc + L);
            a10 = xv.fma(v0, a10); a11 = xv.fma(v1, a11); a12 = xv.fma(v2, a12);
            xv = FloatVector.fromArray(F, xp, xc + 2 * L);
            a20 = xv.fma(v0, a20); a21 = xv.fma(v1, a21); a22 = xv.fma(v2, a22);
            xv = FloatVector.fromArray(F, xp, xc + 3 * L);
            a30 = xv.fma(v0, a30); a31 = xv.fma(v1, a31); a32 = xv.fma(v2, a32);
            xv = FloatVector.fromArray(F, xp, xc + 4 * L);
            a40 = xv.fma(v0, a40); a41 = xv.fma(v1, a41); a42 = xv.fma(v2, a42);
            xv = FloatVector.fromArray(F, xp, xc + 5 * L);
            a50 = xv.fma(v0, a50); a51 = xv.fma(v1, a51); a52 = xv.fma(v2, a52);
            xv = FloatVector.fromArray(F, xp, xc + 6 * L);
            a60 = xv.fma(v0, a60); a61 = xv.fma(v1, a61); a62 = xv.fma(v2, a62);
            xv = FloatVector.fromArray(F, xp, xc + 7 * L);
            a70 = xv.fma(v0, a70); a71 = xv.fma(v1, a71); a72 = xv.fma(v2, a72);
        }
        a00.intoArray(acc, c0); a01.intoArray(acc, c1); a02.intoArray(acc, c2);
        a10.intoArray(acc, c0 + L); a11.intoArray(acc, c1 + L); a12.intoArray(acc, c2 + L);
        a20.intoArray(acc, c0 + 2 * L); a21.intoArray(acc, c1 + 2 * L); a22.intoArray(acc, c2 + 2 * L);
        a30.intoArray(acc, c0 + 3 * L); a31.intoArray(acc, c1 + 3 * L); a32.intoArray(acc, c2 + 3 * L);
        a40.intoArray(acc, c0 + 4 * L); a41.intoArray(acc, c1 + 4 * L); a42.intoArray(acc, c2 + 4 * L);
        a50.intoArray(acc, c0 + 5 * L); a51.intoArray(acc, c1 + 5 * L); a52.intoArray(acc, c2 + 5 * L);
        a60.intoArray(acc, c0 + 6 * L); a61.intoArray(acc, c1 + 6 * L); a62.intoArray(acc, c2 + 6 * L);
        a70.intoArray(acc, c0 + 7 * L); a71.intoArray(acc, c1 + 7 * L); a72.intoArray(acc, c2 + 7 * L);
    }

    /** Six tokens times two weight rows: the tile for 16-register machines (AVX2), each weight vector feeding six FMAs. */
    private static void tile6x2(float[] xp, int x0, float[] block, int b, int rowStride, int n,
                                float[] acc, int a, int rowStep, boolean first) {
        int w0 = b, w1 = b + rowStride;
        int c0 = a, c1 = a + rowStep;
        FloatVector a00 = load(acc, c0, first), a01 = load(acc, c1, first);
        FloatVector a10 = load(acc, c0 + L, first), a11 = load(acc, c1 + L, first);
        FloatVector a20 = load(acc, c0 + 2 * L, first), a21 = load(acc, c1 + 2 * L, first);
        FloatVector a30 = load(acc, c0 + 3 * L, first), a31 = load(acc, c1 + 3 * L, first);
        FloatVector a40 = load(acc, c0 + 4 * L, first), a41 = load(acc, c1 + 4 * L, first);
        FloatVector a50 = load(acc, c0 + 5 * L, first), a51 = load(acc, c1 + 5 * L, first);
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, block, w0 + c);
            FloatVector v1 = FloatVector.fromArray(F, block, w1 + c);
            int xc = x0 + c * TOKEN_TILE;
            FloatVector xv = FloatVector.fromArray(F, xp, xc);
            a00 = xv.fma(v0, a00); a01 = xv.fma(v1, a01);
            xv = FloatVector.fromArray(F, xp, xc + L);
            a10 = xv.fma(v0, a10); a11 = xv.fma(v1, a11);
            xv = FloatVector.fromArray(F, xp, xc + 2 * L);
            a20 = xv.fma(v0, a20); a21 = xv.fma(v1, a21);
            xv = FloatVector.fromArray(F, xp, xc + 3 * L);
            a30 = xv.fma(v0, a30); a31 = xv.fma(v1, a31);
            xv = FloatVector.fromArray(F, xp, xc + 4 * L);
            a40 = xv.fma(v0, a40); a41 = xv.fma(v1, a41);
            xv = FloatVector.fromArray(F, xp, xc + 5 * L);
            a50 = xv.fma(v0, a50); a51 = xv.fma(v1, a51);
        }
        a00.intoArray(acc, c0); a01.intoArray(acc, c1);
        a10.intoArray(acc, c0 + L); a11.intoArray(acc, c1 + L);
        a20.intoArray(acc, c0 + 2 * L); a21.intoArray(acc, c1 + 2 * L);
        a30.intoArray(acc, c0 + 3 * L); a31.intoArray(acc, c1 + 3 * L);
        a40.intoArray(acc, c0 + 4 * L); a41.intoArray(acc, c1 + 4 * L);
        a50.intoArray(acc, c0 + 5 * L); a51.intoArray(acc, c1 + 5 * L);
    }

    /**
     * Four tokens (x at x0 + i * xStep) times three weight rows: AVX-512's leftover tokens, four at a time.
     * Accumulator of (token i, row j) at acc[a + j*rowStep + i*L].
     */
    private static void tile4x3(float[] x, int x0, int xStep, float[] block, int b, int rowStride, int n,
                                float[] acc, int a, int rowStep, boolean first) {
        int w0 = b, w1 = b + rowStride, w2 = b + 2 * rowStride;
        int c0 = a, c1 = a + rowStep, c2 = a + 2 * rowStep;
        FloatVector a00 = load(acc, c0, first), a01 = load(acc, c1, first), a02 = load(acc, c2, first);
        FloatVector a10 = load(acc, c0 + L, first), a11 = load(acc, c1 + L, first), a12 = load(acc, c2 + L, first);
        FloatVector a20 = load(acc, c0 + 2 * L, first), a21 = load(acc, c1 + 2 * L, first), a22 = load(acc, c2 + 2 * L, first);
        FloatVector a30 = load(acc, c0 + 3 * L, first), a31 = load(acc, c1 + 3 * L, first), a32 = load(acc, c2 + 3 * L, first);
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, block, w0 + c);
            FloatVector v1 = FloatVector.fromArray(F, block, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, block, w2 + c);
            int xc = x0 + c * CHAINS;
            FloatVector xv = FloatVector.fromArray(F, x, xc);
            a00 = xv.fma(v0, a00); a01 = xv.fma(v1, a01); a02 = xv.fma(v2, a02);
            xv = FloatVector.fromArray(F, x, xc + xStep);
            a10 = xv.fma(v0, a10); a11 = xv.fma(v1, a11); a12 = xv.fma(v2, a12);
            xv = FloatVector.fromArray(F, x, xc + 2 * xStep);
            a20 = xv.fma(v0, a20); a21 = xv.fma(v1, a21); a22 = xv.fma(v2, a22);
            xv = FloatVector.fromArray(F, x, xc + 3 * xStep);
            a30 = xv.fma(v0, a30); a31 = xv.fma(v1, a31); a32 = xv.fma(v2, a32);
        }
        a00.intoArray(acc, c0); a01.intoArray(acc, c1); a02.intoArray(acc, c2);
        a10.intoArray(acc, c0 + L); a11.intoArray(acc, c1 + L); a12.intoArray(acc, c2 + L);
        a20.intoArray(acc, c0 + 2 * L); a21.intoArray(acc, c1 + 2 * L); a22.intoArray(acc, c2 + 2 * L);
        a30.intoArray(acc, c0 + 3 * L); a31.intoArray(acc, c1 + 3 * L); a32.intoArray(acc, c2 + 3 * L);
    }

    /** One token times three weight rows: AVX-512's tokens left over from whole tiles and quads. */
    private static void tile1x3(float[] x, int x0, float[] block, int b, int rowStride, int n, float[] acc, int a, int rowStep, boolean first) {
        int w0 = b, w1 = b + rowStride, w2 = b + 2 * rowStride;
        int c0 = a, c1 = a + rowStep, c2 = a + 2 * rowStep;
        FloatVector a0 = load(acc, c0, first), a1 = load(acc, c1, first), a2 = load(acc, c2, first);
        for (int c = 0; c < n; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c * CHAINS);
            a0 = xv.fma(FloatVector.fromArray(F, block, w0 + c), a0);
            a1 = xv.fma(FloatVector.fromArray(F, block, w1 + c), a1);
            a2 = xv.fma(FloatVector.fromArray(F, block, w2 + c), a2);
        }
        a0.intoArray(acc, c0); a1.intoArray(acc, c1); a2.intoArray(acc, c2);
    }

    /**
     * One token times two weight rows: an AVX2 token left over from whole tiles and pairs (and a pair's tokens on a
     * chunk's last two-row panel). The token's chain is read from x itself (every CHAINS-th vector from x0), the
     * rows' from the chain-major block.
     */
    private static void tile1x2(float[] x, int x0, float[] block, int b, int rowStride, int n, float[] acc, int a, int rowStep, boolean first) {
        int w0 = b, w1 = b + rowStride;
        FloatVector a0 = load(acc, a, first), a1 = load(acc, a + rowStep, first);
        for (int c = 0; c < n; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c * CHAINS);
            a0 = xv.fma(FloatVector.fromArray(F, block, w0 + c), a0);
            a1 = xv.fma(FloatVector.fromArray(F, block, w1 + c), a1);
        }
        a0.intoArray(acc, a); a1.intoArray(acc, a + rowStep);
    }

    /**
     * Two tokens (x at x0 and x0 + xStep, every CHAINS-th vector) times four weight rows: AVX2's leftover token
     * pairs. Accumulator of (token i, row j) at acc[a + j*rowStep + i*L].
     */
    private static void tile2x4(float[] x, int x0, int xStep, float[] block, int b, int rowStride, int n,
                                float[] acc, int a, int rowStep, boolean first) {
        int w0 = b, w1 = b + rowStride, w2 = b + 2 * rowStride, w3 = b + 3 * rowStride;
        int c0 = a, c1 = a + rowStep, c2 = a + 2 * rowStep, c3 = a + 3 * rowStep;
        FloatVector a00 = load(acc, c0, first), a01 = load(acc, c1, first), a02 = load(acc, c2, first), a03 = load(acc, c3, first);
        FloatVector a10 = load(acc, c0 + L, first), a11 = load(acc, c1 + L, first), a12 = load(acc, c2 + L, first), a13 = load(acc, c3 + L, first);
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, block, w0 + c), v1 = FloatVector.fromArray(F, block, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, block, w2 + c), v3 = FloatVector.fromArray(F, block, w3 + c);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c * CHAINS);
            a00 = xv.fma(v0, a00); a01 = xv.fma(v1, a01); a02 = xv.fma(v2, a02); a03 = xv.fma(v3, a03);
            xv = FloatVector.fromArray(F, x, x0 + xStep + c * CHAINS);
            a10 = xv.fma(v0, a10); a11 = xv.fma(v1, a11); a12 = xv.fma(v2, a12); a13 = xv.fma(v3, a13);
        }
        a00.intoArray(acc, c0); a01.intoArray(acc, c1); a02.intoArray(acc, c2); a03.intoArray(acc, c3);
        a10.intoArray(acc, c0 + L); a11.intoArray(acc, c1 + L); a12.intoArray(acc, c2 + L); a13.intoArray(acc, c3 + L);
    }

    private static void tile1x1(float[] x, int x0, float[] block, int b, int n, float[] acc, int a, boolean first) {
        FloatVector a0 = load(acc, a, first);
        for (int c = 0; c < n; c += L) a0 = FloatVector.fromArray(F, x, x0 + c * CHAINS).fma(FloatVector.fromArray(F, block, b + c), a0);
        a0.intoArray(acc, a);
    }
}
