/**
 * `pnpm bench:vector`: pgvector search as the platform searches memories — the 10
 * nearest by cosine distance (`<=>`, `vector_cosine_ops`), over every memory or over
 * what one person may see (the team's and their own) — exact, with IVFFlat and with
 * HNSW, in one run against a scratch database.
 *
 * The data is synthetic but clustered, so that "nearest" means something, and
 * L2-normalised like the embeddings the platform stores; queries are fresh points drawn
 * the same way, none of them stored. Two shapes (BENCH_DATA, see `shapes`): `topics`
 * (the default) has what text embeddings have — topics of uneven size, nested in
 * themes, on a low-dimensional subspace — and `isotropic` is equal clusters with noise
 * in every dimension, the best case for IVFFlat with as many lists as clusters. The exact
 * scan's answers (no index) are the ground truth every index is scored against
 * (recall@10). Each setting is timed with one client (p50/p95 and QPS) and with four
 * concurrent connections (QPS). Prints a markdown table and which rows meet the target;
 * progress goes to stderr.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { z } from 'zod';
import { startPrivatePostgres } from '../src/private-postgres';
import { createScratchDatabase } from '../src/testing';
import { EMBEDDING_DIMENSIONS, toVector, toVectorBinary } from '../src/vector';

const list = z
  .string()
  .regex(/^[1-9]\d*(,[1-9]\d*)*$/, 'is a comma-separated list of positive integers')
  .transform((s) => s.split(',').map(Number));
const envSchema = z.object({
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/postgres'),
  BENCH_VECTORS: z.coerce.number().int().min(1000).default(100_000),
  BENCH_QUERIES: z.coerce.number().int().min(4).default(200),
  /** How long each setting runs with one client (at least one pass over the queries) and with four. */
  BENCH_SECONDS: z.coerce.number().positive().default(5),
  BENCH_PROBES: list.default([1, 2, 3, 5, 10, 20, 40]),
  BENCH_EF_SEARCH: list.default([20, 40, 100, 200]),
  BENCH_DATA: z.enum(['topics', 'isotropic']).default('topics'),
  /**
   * How the query vector travels: `binary` (pgvector's binary form, as the platform's
   * memory recall sends it) or `text` (the `[x,y,…]` literal PostgreSQL must parse,
   * about 0.2 ms of a query's time at 1,536 dimensions).
   */
  BENCH_QUERY_FORMAT: z.enum(['binary', 'text']).default('binary'),
  /**
   * `true` adds HNSW over the vectors cast to `halfvec` (2-byte floats: half the index
   * a walk reads), built and queried after the full-precision one: what that storage
   * would buy before the platform's indexes are moved to it.
   */
  BENCH_HNSW_HALFVEC: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /**
   * A list of candidate counts (e.g. 20,40) adds HNSW over the vectors' binary
   * quantization (one bit per dimension, `binary_quantize(embedding)::bit(1536)`,
   * Hamming distance): the walk takes that many candidates (ef_search the same), and
   * the exact cosine distance re-ranks them to the top 10. Empty (default): not run.
   */
  BENCH_HNSW_BINARY_RERANK: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const counts = v.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
      if (counts.some((n) => !Number.isInteger(n) || n < 10 || n > 1000)) {
        ctx.addIssue({ code: 'custom', message: 'is a comma-separated list of whole numbers from 10 to 1000' });
      }
      return counts;
    }),
  /**
   * Where the table keeps each vector: `external` (pgvector's default: out of line in
   * TOAST, a few more pages for every row whose vector is read) or `plain` (in the
   * row itself; a 1,536-dimension vector fits a page). Matters where rows' vectors
   * are read, as in re-ranking binary candidates.
   */
  BENCH_EMBEDDING_STORAGE: z.enum(['external', 'plain']).default('external'),
  /**
   * HNSW's build parameters, to try others than the platform's (pgvector's defaults,
   * m=16 and ef_construction=64, which its migrations use). pgvector accepts m 2–100
   * and ef_construction 4–1000, at least twice m.
   */
  BENCH_HNSW_M: z.coerce.number().int().min(2).max(100).default(16),
  BENCH_HNSW_EF_CONSTRUCTION: z.coerce.number().int().min(4).max(1000).default(64),
  /**
   * When set (e.g. 2GB), the bench runs on a PostgreSQL server of its own with this
   * shared_buffers, started from the same installation; otherwise on DATABASE_URL's server as configured.
   */
  BENCH_SHARED_BUFFERS: z
    .string()
    .regex(/^\d+(kB|MB|GB)$/, 'is a size such as 2GB')
    .optional(),
});

/** The issue's IVFFlat setting; HNSW's build parameters come from BENCH_HNSW_M and BENCH_HNSW_EF_CONSTRUCTION. */
const IVFFLAT_LISTS = 100;
const MAINTENANCE_WORK_MEM = '2GB';
const CLIENTS = 4;
const PAGE_SAMPLES = 5;
const K = 10;

/**
 * Who owns the rows, fixed before any result was seen: a fifth of the memories are the
 * team's, the rest belong to one of 20 people, so "the team's and mine" keeps 24 % of
 * the rows.
 */
const TEAM_SHARE = 0.2;
const USERS = 20;
const SEED = 20261125;

/** A way of drawing points (stored rows and queries alike) and a line saying what it is. */
interface Shape {
  description: string;
  draw(): number[];
}

/**
 * `isotropic`, the first shape this bench used (fixed before its first result): 100
 * unit centres, each point a centre plus Gaussian noise as long as the centre, so a
 * point is at cosine ≈ 0.71 from its centre, ≈ 0.5 from another point of its cluster
 * and ≈ 0 from other clusters. The noise spans all 1,536 dimensions, so inside a
 * cluster every point is about as far from a query as every other; and the clusters
 * are equal and as many as IVFFlat's lists, which k-means finds exactly.
 */
const ISOTROPIC = { clusters: 100, noise: 1.0 };

/**
 * `topics`, added after the isotropic run, for data shaped like text embeddings (the
 * parameters were fixed before any run on it): embeddings of real text vary along far
 * fewer directions than they have dimensions, and their topics are of uneven size and
 * nested. Points live in a 32-dimensional latent space: 50 themes (standard normal
 * centres), 20 topics per theme (theme + 0.7 × normal), a point = its topic + 0.5 ×
 * normal; topics are drawn with Zipf-like weights (1 / rank^0.8), so some hold a
 * hundred times more points than others. A fixed random map takes the latent point to
 * 1,536 dimensions, and noise spread over all 1,536 adds 15 % of the point's length
 * before L2 normalisation. A point is then at cosine ≈ 0.84 from others of its topic,
 * ≈ 0.56 from its theme's other topics and ≈ 0 ± 0.2 from the rest (expected values).
 */
const TOPICS = { latentDims: 32, themes: 50, topicsPerTheme: 20, topicSpread: 0.7, pointSpread: 0.5, zipf: 0.8, noiseShare: 0.15 };

function shapes(random: () => number): Record<'topics' | 'isotropic', () => Shape> {
  return {
    isotropic: () => {
      const centres = Array.from({ length: ISOTROPIC.clusters }, () => normalise(Array.from({ length: EMBEDDING_DIMENSIONS }, () => gaussian(random))));
      const sigma = ISOTROPIC.noise / Math.sqrt(EMBEDDING_DIMENSIONS);
      return {
        description: `isotropic: ${ISOTROPIC.clusters} equal clusters, noise ${ISOTROPIC.noise} × the unit centre in every dimension`,
        draw: () => normalise(centres[Math.floor(random() * centres.length)]!.map((c) => c + sigma * gaussian(random))),
      };
    },
    topics: () => {
      const { latentDims, themes, topicsPerTheme, topicSpread, pointSpread, zipf, noiseShare } = TOPICS;
      const normal = () => Array.from({ length: latentDims }, () => gaussian(random));
      const themeCentres = Array.from({ length: themes }, normal);
      const topicCentres = themeCentres.flatMap((theme) => Array.from({ length: topicsPerTheme }, () => normal().map((x, i) => theme[i]! + topicSpread * x)));
      // Popularity by rank, ranks shuffled so that popular topics are spread over the themes.
      const ranks = topicCentres.map((_, i) => i + 1);
      for (let i = ranks.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [ranks[i], ranks[j]] = [ranks[j]!, ranks[i]!];
      }
      const cumulative: number[] = [];
      let total = 0;
      for (const rank of ranks) cumulative.push((total += rank ** -zipf));
      const pickTopic = () => {
        const r = random() * total;
        let lo = 0;
        let hi = cumulative.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cumulative[mid]! < r) lo = mid + 1;
          else hi = mid;
        }
        return topicCentres[lo]!;
      };
      // The map to 1,536 dimensions, row by row: output dimension d = Σ map[d][j] · latent[j].
      const map = Array.from({ length: EMBEDDING_DIMENSIONS }, () => Float64Array.from(normal(), (x) => x / Math.sqrt(latentDims)));
      return {
        description:
          `topics: ${themes} themes × ${topicsPerTheme} topics (Zipf ${zipf}) in ${latentDims} latent dimensions, ` +
          `topic spread ${topicSpread}, point spread ${pointSpread}, mapped to ${EMBEDDING_DIMENSIONS} with ${noiseShare * 100} % noise in every dimension`,
        draw: () => {
          const topic = pickTopic();
          const latent = topic.map((c) => c + pointSpread * gaussian(random));
          const point = new Array<number>(EMBEDDING_DIMENSIONS);
          for (let d = 0; d < EMBEDDING_DIMENSIONS; d++) {
            const row = map[d]!;
            let sum = 0;
            for (let j = 0; j < latentDims; j++) sum += row[j]! * latent[j]!;
            point[d] = sum;
          }
          const sigma = (noiseShare * Math.hypot(...point)) / Math.sqrt(EMBEDDING_DIMENSIONS);
          return normalise(point.map((x) => x + sigma * gaussian(random)));
        },
      };
    },
  };
}

const TARGET = { recall: 0.95, p95Ms: 5, qpsRatio: 3 };

const UNFILTERED = `SELECT id FROM memories ORDER BY embedding <=> $1::vector LIMIT ${K}`;
// What a person may see (packages/domain/src/memories.ts): the team's memories and their own.
const FILTERED = `SELECT id FROM memories WHERE scope = 'team' OR user_id = $2 ORDER BY embedding <=> $1::vector LIMIT ${K}`;
// The same over the halfvec index's expression (the parameter still travels as a vector).
const HALF = `(embedding::halfvec(${EMBEDDING_DIMENSIONS})) <=> ($1::vector::halfvec(${EMBEDDING_DIMENSIONS}))`;
const HALF_UNFILTERED = `SELECT id FROM memories ORDER BY ${HALF} LIMIT ${K}`;
const HALF_FILTERED = `SELECT id FROM memories WHERE scope = 'team' OR user_id = $2 ORDER BY ${HALF} LIMIT ${K}`;
// Over the binary quantization's index: Hamming distance picks the candidates (the last
// parameter says how many), the exact distance re-ranks them.
const BITS = `(binary_quantize(embedding)::bit(${EMBEDDING_DIMENSIONS}))`;
const binaryQuery = (where: string, candidates: string) =>
  `SELECT id FROM (SELECT id, embedding FROM memories ${where} ORDER BY ${BITS} <~> binary_quantize($1::vector) LIMIT ${candidates}) AS candidates ` +
  `ORDER BY embedding <=> $1::vector LIMIT ${K}`;
const BINARY_UNFILTERED = binaryQuery('', '$2');
const BINARY_FILTERED = binaryQuery(`WHERE scope = 'team' OR user_id = $2`, '$3');

interface Query {
  vector: string | Buffer;
  userId: string;
}

interface Setting {
  method: 'exact' | 'IVFFlat' | 'HNSW';
  label: string;
  filtered: boolean;
  /** Session settings every client sets before the run. */
  gucs: Record<string, string>;
  /** The index the plan must use; none for the exact scan. */
  index?: string;
  /** Queries the halfvec expression (BENCH_HNSW_HALFVEC) or the binary quantization (BENCH_HNSW_BINARY_RERANK). */
  form?: 'halfvec' | 'binary';
  /** Candidates the binary walk takes for re-ranking. */
  rerank?: number;
}

interface Row extends Setting {
  buildSeconds?: number;
  indexBytes?: number;
  recall: number;
  p50: number;
  p95: number;
  qps1: number;
  qps4: number;
  /** Queries (first pass) that returned fewer than K rows. */
  short: number;
  /** Shared buffers one query touched (EXPLAIN BUFFERS, mean of a few): found in shared_buffers, and read from the kernel. */
  pagesHit: number;
  pagesRead: number;
  /** Whether the planner used the setting's index (or, for the exact scan, none). */
  expectedPlan: boolean;
}

const log = (line: string) => process.stderr.write(`[bench:vector] ${line}\n`);

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`bad settings: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  const env = parsed.data;
  if (env.BENCH_HNSW_EF_CONSTRUCTION < 2 * env.BENCH_HNSW_M) {
    throw new Error(`bad settings: BENCH_HNSW_EF_CONSTRUCTION must be at least twice BENCH_HNSW_M (pgvector refuses a smaller one)`);
  }
  const started = performance.now();
  // Others' work on the same two cores shows in every figure: the header says how busy the machine was before the run.
  const loadBefore = loadavg()[0]!.toFixed(1);
  const server = env.BENCH_SHARED_BUFFERS ? await startPrivatePostgres({ sameVersionAs: env.DATABASE_URL, settings: { shared_buffers: env.BENCH_SHARED_BUFFERS } }) : undefined;
  if (server) log(`running on a PostgreSQL server of the bench's own, shared_buffers ${env.BENCH_SHARED_BUFFERS}`);
  const scratch = await createScratchDatabase(server?.url ?? env.DATABASE_URL).catch(async (err: unknown) => {
    await server?.stop();
    throw err;
  });
  const clients: pg.Client[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      clients.push(client);
    }
    const primary = clients[0]!;
    await primary.query('CREATE EXTENSION vector');
    // The platform's memories, less the columns search does not read.
    await primary.query(`
      CREATE TABLE memories (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        scope text NOT NULL CHECK (scope IN ('team', 'user')),
        user_id uuid,
        embedding vector(${EMBEDDING_DIMENSIONS}),
        CHECK ((scope = 'team') = (user_id IS NULL))
      )`);
    await primary.query(`ALTER TABLE memories ALTER COLUMN embedding SET STORAGE ${env.BENCH_EMBEDDING_STORAGE.toUpperCase()}`);

    const random = mulberry32(SEED);
    const users = Array.from({ length: USERS }, () => randomUUID());
    const shape = shapes(random)[env.BENCH_DATA]();

    log(`loading ${env.BENCH_VECTORS} vectors of ${EMBEDDING_DIMENSIONS} dimensions (${shape.description}) by binary COPY`);
    let t = performance.now();
    await pipeline(Readable.from(copyRows(env.BENCH_VECTORS, shape, users, random)), primary.query(copyFrom('COPY memories (scope, user_id, embedding) FROM STDIN (FORMAT binary)')));
    await primary.query('VACUUM ANALYZE memories');
    const loadSeconds = (performance.now() - t) / 1000;
    const { rows: sizeRows } = await primary.query<{ bytes: string }>(`SELECT pg_total_relation_size('memories') AS bytes`);
    const tableBytes = Number(sizeRows[0]!.bytes);
    log(`loaded in ${loadSeconds.toFixed(1)} s; table with TOAST ${mb(tableBytes)} MB`);

    const queries: Query[] = Array.from({ length: env.BENCH_QUERIES }, () => {
      const point = shape.draw();
      return { vector: env.BENCH_QUERY_FORMAT === 'binary' ? toVectorBinary(point) : toVector(point), userId: users[Math.floor(random() * USERS)]! };
    });

    const results: Row[] = [];
    const truth = new Map<boolean, string[][]>();
    for (const filtered of [false, true]) {
      const setting: Setting = { method: 'exact', label: 'sequential scan', filtered, gucs: { enable_indexscan: 'off', enable_bitmapscan: 'off' } };
      const { row, answers } = await run(clients, queries, setting, undefined, env.BENCH_SECONDS);
      truth.set(filtered, answers);
      results.push(row);
    }

    t = performance.now();
    log(`building IVFFlat (lists=${IVFFLAT_LISTS})`);
    const ivf = await buildIndex(primary, 'memories_embedding_ivfflat', `ivfflat (embedding vector_cosine_ops) WITH (lists = ${IVFFLAT_LISTS})`);
    for (const filtered of [false, true]) {
      for (const probes of env.BENCH_PROBES) {
        const setting: Setting = {
          method: 'IVFFlat',
          label: `lists=${IVFFLAT_LISTS}, probes=${probes}`,
          filtered,
          index: 'memories_embedding_ivfflat',
          gucs: { 'ivfflat.probes': String(probes), ...(filtered && { 'ivfflat.iterative_scan': 'relaxed_order' }) },
        };
        const { row } = await run(clients, queries, setting, truth.get(filtered), env.BENCH_SECONDS);
        results.push({ ...row, ...ivf });
      }
    }
    await primary.query('DROP INDEX memories_embedding_ivfflat');

    log(`building HNSW (m=${env.BENCH_HNSW_M}, ef_construction=${env.BENCH_HNSW_EF_CONSTRUCTION})`);
    const hnsw = await buildIndex(primary, 'memories_embedding_hnsw', `hnsw (embedding vector_cosine_ops) WITH (m = ${env.BENCH_HNSW_M}, ef_construction = ${env.BENCH_HNSW_EF_CONSTRUCTION})`);
    const hnswSettings: Setting[] = [];
    for (const filtered of [false, true]) {
      for (const ef of env.BENCH_EF_SEARCH) {
        hnswSettings.push({
          method: 'HNSW',
          label: `ef_search=${ef}`,
          filtered,
          index: 'memories_embedding_hnsw',
          gucs: { 'hnsw.ef_search': String(ef), ...(filtered && { 'hnsw.iterative_scan': 'relaxed_order' }) },
        });
      }
    }
    // Why the platform turns iterative scans on: without them a filtered LIMIT returns what survives ef_search candidates.
    const smallestEf = Math.min(...env.BENCH_EF_SEARCH);
    hnswSettings.push({ method: 'HNSW', label: `ef_search=${smallestEf}, iterative scan off`, filtered: true, index: 'memories_embedding_hnsw', gucs: { 'hnsw.ef_search': String(smallestEf) } });
    for (const setting of hnswSettings) {
      const { row } = await run(clients, queries, setting, truth.get(setting.filtered), env.BENCH_SECONDS);
      results.push({ ...row, ...hnsw });
    }
    if (env.BENCH_HNSW_HALFVEC) {
      await primary.query('DROP INDEX memories_embedding_hnsw');
      log(`building HNSW over halfvec (m=${env.BENCH_HNSW_M}, ef_construction=${env.BENCH_HNSW_EF_CONSTRUCTION})`);
      const half = await buildIndex(
        primary,
        'memories_embedding_hnsw_half',
        `hnsw ((embedding::halfvec(${EMBEDDING_DIMENSIONS})) halfvec_cosine_ops) WITH (m = ${env.BENCH_HNSW_M}, ef_construction = ${env.BENCH_HNSW_EF_CONSTRUCTION})`,
      );
      for (const filtered of [false, true]) {
        for (const ef of env.BENCH_EF_SEARCH) {
          const setting: Setting = {
            method: 'HNSW',
            label: `halfvec, ef_search=${ef}`,
            filtered,
            index: 'memories_embedding_hnsw_half',
            form: 'halfvec',
            gucs: { 'hnsw.ef_search': String(ef), ...(filtered && { 'hnsw.iterative_scan': 'relaxed_order' }) },
          };
          const { row } = await run(clients, queries, setting, truth.get(filtered), env.BENCH_SECONDS);
          results.push({ ...row, ...half });
        }
      }
    }
    if (env.BENCH_HNSW_BINARY_RERANK.length > 0) {
      await primary.query('DROP INDEX IF EXISTS memories_embedding_hnsw');
      await primary.query('DROP INDEX IF EXISTS memories_embedding_hnsw_half');
      log(`building HNSW over the binary quantization (m=${env.BENCH_HNSW_M}, ef_construction=${env.BENCH_HNSW_EF_CONSTRUCTION})`);
      const bits = await buildIndex(
        primary,
        'memories_embedding_hnsw_bits',
        `hnsw (${BITS} bit_hamming_ops) WITH (m = ${env.BENCH_HNSW_M}, ef_construction = ${env.BENCH_HNSW_EF_CONSTRUCTION})`,
      );
      for (const filtered of [false, true]) {
        for (const rerank of env.BENCH_HNSW_BINARY_RERANK) {
          const setting: Setting = {
            method: 'HNSW',
            label: `binary, ef_search=${rerank}, re-rank ${rerank}`,
            filtered,
            index: 'memories_embedding_hnsw_bits',
            form: 'binary',
            rerank,
            gucs: { 'hnsw.ef_search': String(rerank), ...(filtered && { 'hnsw.iterative_scan': 'relaxed_order' }) },
          };
          const { row } = await run(clients, queries, setting, truth.get(filtered), env.BENCH_SECONDS);
          results.push({ ...row, ...bits });
        }
      }
    }
    log(`index part took ${((performance.now() - t) / 1000).toFixed(0)} s`);

    const { rows: serverRows } = await primary.query<{ version: string; vector: string; shared_buffers: string; workers: string }>(
      `SELECT current_setting('server_version') AS version, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector,
              current_setting('shared_buffers') AS shared_buffers, current_setting('max_parallel_workers_per_gather') AS workers`,
    );
    const s = serverRows[0]!;
    process.stdout.write(
      `\n${env.BENCH_VECTORS} vectors of ${EMBEDDING_DIMENSIONS} dimensions, data ${shape.description}, L2-normalised; ` +
        `${mb(tableBytes)} MB with TOAST (vectors stored ${env.BENCH_EMBEDDING_STORAGE}), loaded in ${loadSeconds.toFixed(1)} s; ${env.BENCH_QUERIES} queries, top ${K} by cosine distance, query vectors sent as ${env.BENCH_QUERY_FORMAT}; ` +
        `filtered = the team's and one person's of ${USERS} (${Math.round((TEAM_SHARE + (1 - TEAM_SHARE) / USERS) * 100)} % of rows), with iterative scans (relaxed_order) unless said otherwise; ` +
        `IVFFlat lists=${IVFFLAT_LISTS}, HNSW m=${env.BENCH_HNSW_M} ef_construction=${env.BENCH_HNSW_EF_CONSTRUCTION}; ` +
        `${env.BENCH_SECONDS} s per setting and client count; maintenance_work_mem ${MAINTENANCE_WORK_MEM} for the builds; ` +
        `PostgreSQL ${s.version}, pgvector ${s.vector}, shared_buffers ${s.shared_buffers}${server ? " (the bench's own server)" : ''}, max_parallel_workers_per_gather ${s.workers}; ` +
        `1-minute load average ${loadBefore} before the run; total ${((performance.now() - started) / 1000 / 60).toFixed(1)} min\n\n`,
    );
    process.stdout.write(table(results));
    process.stdout.write(`\n${verdict(results)}\n`);
  } finally {
    for (const client of clients) await client.end().catch(() => undefined);
    await scratch.drop();
    await server?.stop();
  }
}

/** Times CREATE INDEX and reads the index's size. */
async function buildIndex(client: pg.Client, index: string, using: string): Promise<{ buildSeconds: number; indexBytes: number }> {
  await client.query(`SET maintenance_work_mem = '${MAINTENANCE_WORK_MEM}'`);
  const t = performance.now();
  await client.query(`CREATE INDEX ${index} ON memories USING ${using}`);
  const buildSeconds = (performance.now() - t) / 1000;
  await client.query('RESET maintenance_work_mem');
  const { rows } = await client.query<{ bytes: string }>('SELECT pg_relation_size($1) AS bytes', [index]);
  const indexBytes = Number(rows[0]!.bytes);
  log(`built ${index} in ${buildSeconds.toFixed(1)} s, ${mb(indexBytes)} MB`);
  return { buildSeconds, indexBytes };
}

/**
 * One setting: a short unmeasured warm-up, then one client over every query (recall and
 * short answers from this first pass) and on until BENCH_SECONDS have passed (latency,
 * QPS), then CLIENTS connections at once for BENCH_SECONDS (QPS).
 */
async function run(clients: pg.Client[], queries: Query[], setting: Setting, truth: string[][] | undefined, seconds: number): Promise<{ row: Row; answers: string[][] }> {
  const texts = { halfvec: [HALF_UNFILTERED, HALF_FILTERED], binary: [BINARY_UNFILTERED, BINARY_FILTERED], full: [UNFILTERED, FILTERED] } as const;
  const text = texts[setting.form ?? 'full'][setting.filtered ? 1 : 0];
  const params = (q: Query): unknown[] => [q.vector, ...(setting.filtered ? [q.userId] : []), ...(setting.form === 'binary' ? [setting.rerank] : [])];
  const ask = async (client: pg.Client, q: Query) => (await client.query<{ id: string }>(text, params(q))).rows.map((r) => r.id);
  const name = `${setting.method} ${setting.label}, ${setting.filtered ? 'filtered' : 'all'}`;

  for (const client of clients) {
    await client.query('RESET ALL');
    for (const [guc, value] of Object.entries(setting.gucs)) await client.query(`SET ${guc} = '${value}'`);
  }
  const first = clients[0]!;
  const { rows: planRows } = await first.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params(queries[0]!));
  const plan = planRows.map((r) => r['QUERY PLAN']).join('\n');
  const usesIndex = setting.index ? plan.includes(`Index Scan using ${setting.index}`) : !plan.includes('Index Scan');
  if (!usesIndex) log(`${name}: the planner did not choose the expected plan:\n${plan}`);

  const warmUntil = performance.now() + Math.min(1000, seconds * 200);
  for (let i = 0; performance.now() < warmUntil; i++) await ask(first, queries[i % queries.length]!);
  const pages = await pagesPerQuery(first, text, queries.slice(0, PAGE_SAMPLES).map(params));

  const answers: string[][] = [];
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < queries.length || performance.now() - start < seconds * 1000; i++) {
    const t = performance.now();
    const ids = await ask(first, queries[i % queries.length]!);
    latencies.push(performance.now() - t);
    if (i < queries.length) answers.push(ids);
  }
  const qps1 = (latencies.length * 1000) / (performance.now() - start);

  let done = 0;
  const concurrentStart = performance.now();
  const until = concurrentStart + seconds * 1000;
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = Math.floor((c * queries.length) / clients.length); performance.now() < until; i++) {
        await ask(client, queries[i % queries.length]!);
        done += 1;
      }
    }),
  );
  const qps4 = (done * 1000) / (performance.now() - concurrentStart);

  const recall = truth ? answers.reduce((sum, ids, i) => sum + overlap(ids, truth[i]!), 0) / (answers.length * K) : 1;
  const short = answers.filter((ids) => ids.length < K).length;
  const row: Row = { ...setting, recall, p50: percentile(latencies, 50), p95: percentile(latencies, 95), qps1, qps4, short, pagesHit: pages.hit, pagesRead: pages.read, expectedPlan: usesIndex };
  log(`${name}: recall ${recall.toFixed(3)}, p50 ${row.p50} ms, p95 ${row.p95} ms, ${qps1.toFixed(0)} / ${qps4.toFixed(0)} QPS, ${short} short, ${pages.hit.toFixed(0)} + ${pages.read.toFixed(0)} pages`);
  return { row, answers };
}

/** Where a query's pages come from: what latency is made of when the index does not fit in shared_buffers. */
async function pagesPerQuery(client: pg.Client, text: string, samples: unknown[][]): Promise<{ hit: number; read: number }> {
  let hit = 0;
  let read = 0;
  for (const values of samples) {
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }[] }>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`,
      values,
    );
    const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
    hit += plan['Shared Hit Blocks'];
    read += plan['Shared Read Blocks'];
  }
  return { hit: hit / samples.length, read: read / samples.length };
}

/**
 * Rows for binary COPY (scope, user_id, embedding), a thousand at a time: text and uuid
 * in their binary forms, the vector as pgvector's `vector_recv` reads it (int16
 * dimensions, int16 0, float4 big-endian each).
 */
function* copyRows(count: number, shape: Shape, users: string[], random: () => number): Generator<Buffer> {
  const userBytes = users.map((u) => Buffer.from(u.replaceAll('-', ''), 'hex'));
  const vectorBytes = 4 + 4 * EMBEDDING_DIMENSIONS;
  const rowBytes = 2 + (4 + 4) + (4 + 16) + (4 + vectorBytes);
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
  yield header;
  for (let done = 0; done < count; ) {
    const batch = Math.min(1000, count - done);
    const buffer = Buffer.allocUnsafe(batch * rowBytes);
    let at = 0;
    for (let r = 0; r < batch; r++) {
      const vector = shape.draw();
      const team = random() < TEAM_SHARE;
      at = buffer.writeInt16BE(3, at);
      at = buffer.writeInt32BE(4, at);
      at += buffer.write(team ? 'team' : 'user', at, 'latin1');
      if (team) {
        at = buffer.writeInt32BE(-1, at);
      } else {
        at = buffer.writeInt32BE(16, at);
        at += userBytes[Math.floor(random() * users.length)]!.copy(buffer, at);
      }
      at = buffer.writeInt32BE(vectorBytes, at);
      at = buffer.writeInt16BE(EMBEDDING_DIMENSIONS, at);
      at = buffer.writeInt16BE(0, at);
      for (const v of vector) at = buffer.writeFloatBE(v, at);
    }
    done += batch;
    if (done % 10_000 < batch) log(`  ${done} rows`);
    yield buffer.subarray(0, at);
  }
  yield Buffer.from([0xff, 0xff]);
}

function normalise(v: number[]): number[] {
  const length = Math.hypot(...v);
  return v.map((x) => x / length);
}

/** Standard normal by Box–Muller. */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A small seeded generator, so every run loads the same data and asks the same queries. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function overlap(found: string[], expected: string[]): number {
  const wanted = new Set(expected);
  return found.filter((id) => wanted.has(id)).length;
}

/** The q-th percentile (nearest rank), in ms with two decimals. */
function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))] ?? NaN;
  return Math.round(value * 100) / 100;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/**
 * IVFFlat's QPS (4 clients, same filter) at the HNSW row's recall exactly. Its probes
 * settings are steps, and which one lands near HNSW's recall moves with each k-means
 * build; but a mix of two settings reaches any recall between theirs — a share of the
 * queries with fewer probes, the rest with more — at the same mix of their times per
 * query. So the comparison is the best IVFFlat can do at that recall: a setting that
 * reaches it, or a mix of one below and one above it, whichever is faster; one probe
 * when even that beats HNSW's recall; the most accurate setting, and a lower bound on
 * the ratio, when none reaches it.
 */
function ivfflatAtRecall(rows: Row[], hnsw: Row): { qps: number; basis: string; reached: boolean } | undefined {
  const ivf = rows.filter((r) => r.method === 'IVFFlat' && r.filtered === hnsw.filtered);
  if (ivf.length === 0) return undefined;
  const options: { qps: number; basis: string }[] = ivf.filter((r) => r.recall >= hnsw.recall).map((r) => ({ qps: r.qps4, basis: r.label }));
  for (const lo of ivf.filter((r) => r.recall < hnsw.recall)) {
    for (const hi of ivf.filter((r) => r.recall >= hnsw.recall)) {
      const share = (hi.recall - hnsw.recall) / (hi.recall - lo.recall);
      const qps = 1 / (share / lo.qps4 + (1 - share) / hi.qps4);
      const probes = (r: Row) => r.gucs['ivfflat.probes'];
      options.push({ qps, basis: `${Math.round(share * 100)} % at probes=${probes(lo)}, ${Math.round((1 - share) * 100)} % at probes=${probes(hi)}: ${qps.toFixed(0)} QPS` });
    }
  }
  const best = options.sort((a, b) => b.qps - a.qps)[0];
  if (best) return { ...best, reached: true };
  const accurate = [...ivf].sort((a, b) => b.recall - a.recall)[0]!;
  return { qps: accurate.qps4, basis: `${accurate.label}, which stops at recall ${accurate.recall.toFixed(3)}`, reached: false };
}

function meetsTarget(rows: Row[], r: Row): { meets: boolean; ratio?: string; reasons: string[] } {
  const reasons: string[] = [];
  if (r.recall < TARGET.recall) reasons.push(`recall ${r.recall.toFixed(3)}`);
  if (r.p95 > TARGET.p95Ms) reasons.push(`p95 ${r.p95} ms`);
  const ivf = ivfflatAtRecall(rows, r);
  let ratio: string | undefined;
  if (ivf) {
    const x = r.qps4 / ivf.qps;
    // When no probes setting reaches HNSW's recall, more probes would only be slower: the ratio is a lower bound.
    ratio = `${ivf.reached ? '' : '> '}${x.toFixed(1)}× (vs ${ivf.basis})`;
    if (x < TARGET.qpsRatio) reasons.push(`QPS ${x.toFixed(1)}× IVFFlat's`);
  }
  return { meets: reasons.length === 0, ratio, reasons };
}

function table(rows: Row[]): string {
  const lines = [
    '| query | method | setting | build s | index MB | recall@10 | p50 ms | p95 ms | QPS 1 client | QPS 4 clients | < 10 rows | pages / query (hit + read) | HNSW ÷ IVFFlat QPS at equal recall (4 clients) | meets target |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const target = r.method === 'HNSW' ? meetsTarget(rows, r) : undefined;
    lines.push(
      `| ${r.filtered ? 'filtered' : 'all'} | ${r.method} | ${r.label}${r.expectedPlan ? '' : ' (planner chose another plan)'} | ` +
        `${r.buildSeconds?.toFixed(1) ?? '—'} | ${r.indexBytes === undefined ? '—' : mb(r.indexBytes)} | ${r.recall.toFixed(3)} | ${r.p50} | ${r.p95} | ` +
        `${r.qps1.toFixed(0)} | ${r.qps4.toFixed(0)} | ${r.short} | ${r.pagesHit.toFixed(0)} + ${r.pagesRead.toFixed(0)} | ${target?.ratio ?? '—'} | ${target ? (target.meets ? '**yes**' : `no: ${target.reasons.join(', ')}`) : '—'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function verdict(rows: Row[]): string {
  const meeting = rows.filter((r) => r.method === 'HNSW' && meetsTarget(rows, r).meets);
  const target = `Target: HNSW recall@10 ≥ ${TARGET.recall} at p95 ≤ ${TARGET.p95Ms} ms and ≥ ${TARGET.qpsRatio}× IVFFlat's QPS (4 clients) at equal recall (IVFFlat's probes settings mixed to reach HNSW's recall exactly).`;
  if (meeting.length === 0) return `${target} Met by no row.`;
  return `${target} Met by: ${meeting.map((r) => `HNSW ${r.label}, ${r.filtered ? 'filtered' : 'all'}`).join('; ')}.`;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
