import { CAUSES, type CauseId } from '../model.js';

/** Causes a scenario can plant: every cause except `unclassified`, which is the classifier's verdict of last resort. */
export type PlantedCause = Exclude<CauseId, 'unclassified'>;
/** What a user's story really was, as written to truth.json. */
export type TrueOutcome = 'healthy' | PlantedCause;

/** Log formats each role can be written in (`--sbc`, `--lb`, `--client`). */
export const SBC_PRODUCTS = ['kamailio', 'opensips', 'freeswitch', 'asterisk'] as const;
export const LB_PRODUCTS = ['nginx', 'haproxy', 'alb', 'envoy', 'traefik'] as const;
export const CLIENT_FORMATS = ['jssip', 'sipjs', 'har', 'json'] as const;
export type SbcProduct = (typeof SBC_PRODUCTS)[number];
export type LbProduct = (typeof LB_PRODUCTS)[number];
export type ClientFormat = (typeof CLIENT_FORMATS)[number];

/**
 * The concrete story shapes behind each cause (the mechanism, not just the symptom). Not every
 * product can produce every mechanism: `variantSupported` says which ones a mix can.
 */
export const CAUSE_VARIANTS = {
  // ratelimit / pipelimit / pike: Kamailio (OpenSIPS: ratelimit and pike); session-limit /
  // system-busy: FreeSWITCH's 503s; overload: Asterisk's task processor overload
  'sbc-throttling': ['ratelimit', 'pipelimit', 'pike', 'session-limit', 'system-busy', 'overload'],
  'edge-rate-limit': ['limiter'],
  'idle-timeout': ['no-keepalive'],
  'client-misconfig': ['no-subprotocol', 'malformed-header', 'bad-path-storm', 'bad-path'],
  'upstream-timeout': ['edge-504', 'sip-504'],
  'auth-failure': ['wrong-password', 'forbidden'],
} as const satisfies Record<PlantedCause, readonly string[]>;

export type CauseVariant<C extends PlantedCause> = (typeof CAUSE_VARIANTS)[C][number];
export type AnyVariant = CauseVariant<PlantedCause>;

/** Optional extension: weights of each cause's variants (defaults in stories.ts). */
export type VariantWeights = { [C in PlantedCause]?: Partial<Record<CauseVariant<C>, number>> };

export interface SimulateOptions {
  outDir: string;
  users: number;
  /** test length in seconds */
  durationSec: number;
  /** users start spread over this many seconds */
  rampSec: number;
  /** share of users per cause; the rest are healthy */
  causes: Partial<Record<CauseId, number>>;
  sbc: SbcProduct;
  lb: LbProduct;
  /** jssip / sipjs / json: one harness log; har: one HAR file per user under har/ */
  client: ClientFormat;
  seed: number;
  /** clock error of each role's log against true time */
  skewMs: { sbc: number; lb: number; client: number };
  /** noise lines per 100 real lines */
  noise: number;
  /** LB idle / tunnel timeout in seconds */
  idleTimeoutSec: number;
  /** true start time */
  start: Date;
  /** default 'agent-' → agent-001 … */
  userPrefix?: string;
  /** extension, not needed by the CLI: force the mix of mechanisms behind a cause */
  variants?: VariantWeights;
}

export interface SimulateResult {
  files: string[];
  truthPath: string;
  lines: number;
  bytes: number;
}

const PLANTABLE = CAUSES.filter((c): c is PlantedCause => c !== 'unclassified');

function isPlantable(name: string): name is PlantedCause {
  return (PLANTABLE as readonly string[]).includes(name);
}

/** Shares are compared with this slack so that "0.1,0.2,0.7" (0.30000000000000004 …) still sums to 1. */
const SUM_EPSILON = 1e-9;

/**
 * Parses a cause mix such as `sbc-throttling=0.3,idle-timeout=0.1` (shares of users; the rest stay
 * healthy). Percentages (`30%`) are accepted too. Throws an Error naming the offending part.
 */
export function parseCauseMix(text: string): Partial<Record<CauseId, number>> {
  const mix: Partial<Record<CauseId, number>> = {};
  const trimmed = text.trim();
  if (trimmed === '') return mix;
  for (const rawPart of trimmed.split(',')) {
    const part = rawPart.trim();
    if (part === '') throw new Error(`cause mix "${text}": empty entry (stray comma?)`);
    const eq = part.indexOf('=');
    if (eq < 0)
      throw new Error(`cause mix entry "${part}": expected <cause>=<share>, e.g. sbc-throttling=0.3`);
    const name = part.slice(0, eq).trim();
    const valueText = part.slice(eq + 1).trim();
    if (!isPlantable(name)) {
      const why = name === 'unclassified' ? ' (it is a verdict, not something a scenario can plant)' : '';
      throw new Error(
        `cause mix entry "${part}": unknown cause "${name}"${why}; known causes: ${PLANTABLE.join(', ')}`,
      );
    }
    if (name in mix) throw new Error(`cause mix entry "${part}": cause "${name}" is given twice`);
    const percent = valueText.endsWith('%');
    const numeric = percent ? valueText.slice(0, -1).trim() : valueText;
    const share = /^(\d+(\.\d*)?|\.\d+)$/.test(numeric) ? Number(numeric) / (percent ? 100 : 1) : NaN;
    if (!Number.isFinite(share) || share < 0 || share > 1) {
      throw new Error(`cause mix entry "${part}": share must be a number between 0 and 1 (or 0%–100%)`);
    }
    mix[name] = share;
  }
  checkShareSum(mix);
  return mix;
}

function checkShareSum(mix: Partial<Record<CauseId, number>>): void {
  const sum = Object.values(mix).reduce((total: number, share) => total + (share ?? 0), 0);
  if (sum > 1 + SUM_EPSILON) {
    throw new Error(
      `cause mix shares sum to ${Number(sum.toFixed(6))}, more than 1: they are shares of all users (the rest stay healthy)`,
    );
  }
}

/** Validates options beyond what the type says; throws an Error with a clear message. */
export function validateOptions(opts: SimulateOptions): void {
  const positiveInt = (value: number, name: string): void => {
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`${name} must be a positive integer, got ${value}`);
  };
  positiveInt(opts.users, 'users');
  if (!(opts.durationSec > 0)) throw new Error(`durationSec must be > 0, got ${opts.durationSec}`);
  if (!(opts.rampSec >= 0) || opts.rampSec > opts.durationSec) {
    throw new Error(`rampSec must be between 0 and durationSec (${opts.durationSec}), got ${opts.rampSec}`);
  }
  if (!(opts.idleTimeoutSec >= 5)) throw new Error(`idleTimeoutSec must be >= 5, got ${opts.idleTimeoutSec}`);
  if (!(opts.noise >= 0) || opts.noise > 100)
    throw new Error(`noise must be between 0 and 100, got ${opts.noise}`);
  if (!Number.isFinite(opts.seed)) throw new Error(`seed must be a finite number, got ${opts.seed}`);
  if (!(opts.start instanceof Date) || Number.isNaN(opts.start.getTime()))
    throw new Error('start must be a valid Date');
  const oneOf = (value: string, allowed: readonly string[], name: string): void => {
    if (!allowed.includes(value))
      throw new Error(`${name} must be one of ${allowed.join(', ')}, got '${String(value)}'`);
  };
  oneOf(opts.sbc, SBC_PRODUCTS, 'sbc');
  oneOf(opts.lb, LB_PRODUCTS, 'lb');
  oneOf(opts.client, CLIENT_FORMATS, 'client');
  for (const role of ['sbc', 'lb', 'client'] as const) {
    if (!Number.isFinite(opts.skewMs[role])) throw new Error(`skewMs.${role} must be a finite number`);
  }
  for (const [name, share] of Object.entries(opts.causes)) {
    if (name === 'unclassified' && share === 0) continue;
    if (!isPlantable(name)) throw new Error(`causes: unknown or unplantable cause "${name}"`);
    if (share === undefined || !(share >= 0 && share <= 1))
      throw new Error(`causes.${name} must be between 0 and 1`);
  }
  checkShareSum(opts.causes);
  if (opts.userPrefix !== undefined && !/^[A-Za-z0-9._-]*$/.test(opts.userPrefix)) {
    throw new Error(`userPrefix may hold only letters, digits, '.', '_' and '-', got "${opts.userPrefix}"`);
  }
}

/**
 * Number of users per outcome, by largest remainder so that the counts add up to `users` and each
 * cause gets round(share × users) or the nearest feasible count.
 */
export function outcomeCounts(
  users: number,
  causes: Partial<Record<CauseId, number>>,
): Map<TrueOutcome, number> {
  const planted = PLANTABLE.filter((c) => (causes[c] ?? 0) > 0);
  const exact = planted.map((c) => (causes[c] ?? 0) * users);
  const counts = exact.map((x) => Math.floor(x));
  let assigned = counts.reduce((a, b) => a + b, 0);
  const target = Math.min(users, Math.round(exact.reduce((a, b) => a + b, 0)));
  const order = exact
    .map((x, i) => ({ i, rest: x - Math.floor(x) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (assigned >= target) break;
    counts[i]++;
    assigned++;
  }
  const result = new Map<TrueOutcome, number>();
  planted.forEach((c, i) => result.set(c, counts[i]));
  result.set('healthy', users - assigned);
  return result;
}

/** The three products of a scenario. */
export interface Mix {
  sbc: SbcProduct;
  lb: LbProduct;
  client: ClientFormat;
}

/** SBCs that answer an upgrade without `Sec-WebSocket-Protocol: sip` with a 400 (FreeSWITCH's ws.c says nothing of it). */
const REJECTS_NO_SUBPROTOCOL: readonly SbcProduct[] = ['kamailio', 'opensips', 'asterisk'];
/** SBCs that answer an upgrade for an unknown path with 404 (OpenSIPS and FreeSWITCH accept any path). */
const REJECTS_UNKNOWN_PATH: readonly SbcProduct[] = ['kamailio', 'asterisk'];
/** Edges that route by path, so that they answer an unknown path themselves (HAProxy forwards every path). */
const ROUTES_BY_PATH: readonly LbProduct[] = ['nginx', 'alb', 'envoy', 'traefik'];
/** Clients that can put headers on the handshake or drop the subprotocol (a `ws`-based JsSIP socket). */
const SHAPES_HANDSHAKE: readonly ClientFormat[] = ['jssip', 'json'];
const SBC_THROTTLING: Record<SbcProduct, readonly string[]> = {
  kamailio: ['ratelimit', 'pipelimit', 'pike'],
  opensips: ['ratelimit', 'pike'],
  freeswitch: ['session-limit', 'system-busy'],
  asterisk: ['overload'],
};
/** SBCs that proxy REGISTER to a registrar behind them (so that its timeout becomes their SIP 504). */
const PROXIES_REGISTER: readonly SbcProduct[] = ['kamailio', 'opensips'];

/** Whether the products of a mix can produce a variant, and leave its evidence in their logs. */
export function variantSupported(variant: AnyVariant, mix: Mix): boolean {
  if ((CAUSE_VARIANTS['sbc-throttling'] as readonly string[]).includes(variant))
    return SBC_THROTTLING[mix.sbc].includes(variant);
  switch (variant) {
    case 'no-subprotocol':
      return SHAPES_HANDSHAKE.includes(mix.client) && REJECTS_NO_SUBPROTOCOL.includes(mix.sbc);
    case 'malformed-header':
      return SHAPES_HANDSHAKE.includes(mix.client);
    case 'bad-path':
    case 'bad-path-storm':
      return ROUTES_BY_PATH.includes(mix.lb) || REJECTS_UNKNOWN_PATH.includes(mix.sbc);
    case 'sip-504':
      return PROXIES_REGISTER.includes(mix.sbc);
    default:
      return true;
  }
}
