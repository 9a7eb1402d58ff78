/** The worker's environment, validated with zod; problems are listed, never thrown raw. */
import { hostname } from 'node:os';
import { z } from 'zod';
import { egressSettings } from '../net/egress.ts';
import { sandboxSettingsShape } from '../engine/host/sandbox-settings.ts';

export const workerConfigSchema = z.object({
  DATABASE_URL: z
    .string({ error: 'is required (a postgres:// URL)' })
    .url('must be a URL such as postgresql://user@127.0.0.1:5432/meshflow')
    .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// or postgresql:// URL'),
  WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  WORKER_HOST: z.string().min(1).default('0.0.0.0'),
  MESHFLOW_WORKER_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** Apply pending migrations at start (the default); off when another process owns them. */
  MESHFLOW_WORKER_MIGRATE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Largest accepted ingress request body; larger ones get 413. */
  MESHFLOW_MAX_EVENT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** How long a client may take to send a request's headers; slower connections are closed with 408. */
  MESHFLOW_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** How long a request body may take to arrive once its headers are in; later bodies get 408. */
  MESHFLOW_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Bearer token that `GET /metrics` requires; without it /metrics is open (bind it to a private network). */
  MESHFLOW_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters (a random token, e.g. openssl rand -hex 32)').optional(),
  /** How long events stay in the log (and duplicates of them are recognised) once nothing needs them. */
  MESHFLOW_EVENT_RETENTION_HOURS: z.coerce.number().positive().default(168),
  /** Deliveries one worker keeps in flight. */
  MESHFLOW_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(64),
  /** How long a claimed delivery stays with its worker before another may take it over. */
  MESHFLOW_DELIVERY_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  /**
   * On SIGTERM/SIGINT: how long the worker lets its in-flight deliveries finish before it hands
   * the rest back (releases their leases, so another worker sends them at once) and exits.
   * Keep it below the orchestrator's grace period (Kubernetes: terminationGracePeriodSeconds).
   */
  MESHFLOW_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(20_000),
  /** How often an idle worker looks for due deliveries (retries, other workers' expired leases). */
  MESHFLOW_DELIVERY_POLL_MS: z.coerce.number().int().min(10).default(250),
  /** Workflow instances one worker holds in memory at once. */
  MESHFLOW_RUN_CONCURRENCY: z.coerce.number().int().min(1).max(100_000).default(200),
  /** How long a claimed run stays with its worker without a heartbeat before another may resume it. */
  MESHFLOW_RUN_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  /** How often an idle worker looks for runs to claim, and a `listen` polls the event log. */
  MESHFLOW_RUN_POLL_MS: z.coerce.number().int().min(10).default(500),
  /** Waits due later than this are parked in the database instead of held in memory. */
  MESHFLOW_RUN_PARK_AFTER_MS: z.coerce.number().int().min(0).default(60_000),
  /** Also append workflow and task lifecycle CloudEvents to the event log (ingress `lifecycle`). */
  MESHFLOW_RUN_LIFECYCLE_EVENTS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** 32 bytes, base64: decrypts connector secrets; without it, connectors that have secrets cannot start. */
  MESHFLOW_SECRET_KEY: z
    .string()
    .refine((k) => Buffer.from(k, 'base64').length === 32, 'must be 32 bytes encoded as base64')
    .optional(),
  /** Where the durable event log and the delivery work live: PostgreSQL (the default) or NATS JetStream. */
  MESHFLOW_EVENT_BACKEND: z.enum(['postgres', 'jetstream'], { error: 'must be postgres or jetstream' }).default('postgres'),
  /** The NATS servers of the JetStream backend, comma-separated nats:// URLs (credentials in the URL). */
  MESHFLOW_NATS_URL: z
    .string()
    .default('nats://127.0.0.1:4222')
    .superRefine((value, ctx) => {
      for (const entry of value.split(',').map((e) => e.trim())) {
        let url: URL | undefined;
        try {
          url = new URL(entry);
        } catch {
          // Reported below.
        }
        if (!url || !['nats:', 'tls:'].includes(url.protocol) || !url.hostname) ctx.addIssue({ code: 'custom', message: `"${entry}" must be a nats:// URL such as nats://127.0.0.1:4222` });
      }
    }),
  /** Names of the JetStream streams and consumers start with it (letters, digits, _ and -): one per installation. */
  MESHFLOW_JETSTREAM_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1 to 32 letters, digits, _ or - (it names streams, consumers and subjects)')
    .default('MESHFLOW'),
  /** Where JetStream keeps the streams: `file` (survives a server restart) or `memory`. */
  MESHFLOW_JETSTREAM_STORAGE: z.enum(['file', 'memory'], { error: 'must be file or memory' }).default('file'),
  /** Copies of each stream in a JetStream cluster (1 on a single server; 3 or 5 in a cluster). */
  MESHFLOW_JETSTREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** How long a `(source, id)` is remembered for dropping repeats (the stream's duplicate window). */
  MESHFLOW_JETSTREAM_DEDUPE_WINDOW_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  ...egressSettings,
  /** Scripts (off by default) and the budgets of scripts and expressions: see sandbox-settings.ts. */
  ...sandboxSettingsShape,
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export type ConfigResult = { ok: true; config: WorkerConfig } | { ok: false; problems: string[] };

export function loadWorkerConfig(source: Record<string, string | undefined>): ConfigResult {
  const parsed = workerConfigSchema.safeParse(source);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
  };
}
