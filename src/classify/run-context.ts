/**
 * Facts about the whole run that single sessions cannot see: the idle timeout the tunnels die at,
 * whether the edge refused handshakes itself, which source IPs the SBC's flood guard blocked.
 */
import type { LogEvent } from '../model.js';
import { F64Column, I32Column } from '../correlate/columns.js';
import type { Session } from '../correlate/sessions.js';

export interface RunContext {
  /** the idle timeout that abnormally closed tunnels cluster at, ms (undefined: none found) */
  idleTimeoutMs?: number;
  /** how many tunnel lifetimes sit in that cluster */
  idleClusterSize: number;
  /** handshakes the edge refused itself (upstream "-", <NOSRV>, limiter lines) */
  edgeRefusals: number;
  /** handshakes an upstream (the SBC) refused with a status */
  upstreamRefusals: number;
  /** time-ordered SBC flood-guard blocks per source IP */
  floodBlocks: Map<string, number[]>;
  rolesPresent: Set<string>;
  /** end of the run (latest event) */
  endTs: number;
  /**
   * Statuses a client library made up (SIP.js "Generating internal 503") on lines that named no
   * user, in time order: an app's "registration failed: 503" just after one repeats it.
   */
  keylessInternal: { ts: number; status: number }[];
}

export interface Tunnel {
  start: number;
  end: number;
  /** time from the last traffic seen inside the tunnel (or its start) to its end */
  idleGap: number;
  /** the close was abnormal or unknown (not a clean client close) */
  abnormal: boolean;
  /** an intermediary said it closed the tunnel for inactivity */
  idleFlag: boolean;
  source: LogEvent;
}

/** Closes this close to the end of the logs are the test's teardown. */
export const TEARDOWN_MS = 5_000;

/** A close at the very end of the logs, with no reconnect after it, is the test's teardown. */
export function isTeardown(closeTs: number, events: readonly LogEvent[], endTs: number): boolean {
  if (closeTs < endTs - TEARDOWN_MS) return false;
  return !events.some((e) => e.ts > closeTs && isConnectLike(e));
}

const ABNORMAL_FLAGS = /^[cs]D|^SD|^CD/;
/** HAProxy's 2–4 letter termination state, Envoy's response flags ("-", "DC", "UT,URX"). */
const TERMINATION_STATE = /^(?:-|[-A-Za-z]{2,4}|[A-Z]{2,4}(?:,[A-Z]{2,4}){0,8})$/;

/** A close frame the peer meant: 1000 normal, 1001 going away (or the library says it was clean). */
export function isCleanClose(e: LogEvent): boolean {
  const code = e.ws?.closeCode;
  return e.ws?.wasClean === true || code === 1000 || code === 1001;
}

/** Traffic in the last 1.5 s before a close may be the next connection seen through a whole-second clock. */
const GAP_GUARD_MS = 1_500;

function isTraffic(e: LogEvent): boolean {
  return e.signal === 'keepalive' || e.kind === 'sip-request' || e.kind === 'sip-response';
}

/** Tunnels of one session: LB 101 lines (start→end) and client open→close pairs. */
export function tunnelsOf(events: readonly LogEvent[]): Tunnel[] {
  const traffic = events.filter((e) => isTraffic(e) && !Number.isNaN(e.ts)).map((e) => e.ts);
  const gapOf = (start: number, end: number): number => {
    let last = start;
    for (const t of traffic) {
      if (t > end - GAP_GUARD_MS) break;
      if (t > last) last = t;
    }
    return end - last;
  };
  const tunnels: Tunnel[] = [];
  let open: LogEvent | undefined;
  for (const e of events) {
    if (Number.isNaN(e.ts)) continue;
    if (e.role === 'lb' && e.http?.status === 101 && e.http.durationMs !== undefined) {
      const flags = e.http.flags ?? '';
      const idleFlag =
        e.signal === 'idle-close' || /^[cs]D/.test(flags) || /\bSI\b|stream_idle_timeout/.test(flags);
      const start = e.http.startTs ?? e.ts - e.http.durationMs;
      tunnels.push({
        start,
        end: e.ts,
        idleGap: gapOf(start, e.ts),
        // only termination states (HAProxy "cD--", Envoy "DC") tell how a tunnel ended; without
        // them (none, or descriptive text such as ALB actions) the close may have been a cut
        abnormal: idleFlag || ABNORMAL_FLAGS.test(flags) || !TERMINATION_STATE.test(flags),
        idleFlag,
        source: e,
      });
    } else if (e.role === 'client') {
      if (e.signal === 'ws-open') open = e;
      else if (e.signal === 'ws-close' && open) {
        const code = e.ws?.closeCode;
        tunnels.push({
          start: open.ts,
          end: e.ts,
          idleGap: gapOf(open.ts, e.ts),
          abnormal: !isCleanClose(e) && (code === 1006 || e.ws?.wasClean === false),
          idleFlag: false,
          source: e,
        });
        open = undefined;
      }
    }
  }
  // an LB line cannot tell a clean close from a cut one; the client's clean close can
  const cleanCloses = events.filter((e) => e.role === 'client' && e.signal === 'ws-close' && isCleanClose(e));
  for (const t of tunnels) {
    if (t.source.role !== 'lb' || t.idleFlag) continue;
    if (cleanCloses.some((c) => Math.abs(c.ts - t.end) <= 3_000)) t.abnormal = false;
  }
  return tunnels;
}

/**
 * Idle gaps (silence before an abnormal close) cluster at an idle timeout when many closes share
 * one gap (±1 s). Without visible traffic the gap is the tunnel's lifetime.
 */
export function findIdleTimeout(lifetimesMs: readonly number[]): { timeoutMs?: number; size: number } {
  const bins = new Map<number, number>();
  for (const d of lifetimesMs) {
    if (d < 1_000) continue;
    const b = Math.round(d / 1000);
    bins.set(b, (bins.get(b) ?? 0) + 1);
  }
  let bestBin = -1;
  let best = 0;
  for (const [b] of bins) {
    const c = (bins.get(b - 1) ?? 0) + (bins.get(b) ?? 0) + (bins.get(b + 1) ?? 0);
    if (c > best || (c === best && b < bestBin)) {
      best = c;
      bestBin = b;
    }
  }
  if (best < 3 || best < 0.2 * lifetimesMs.length) return { size: 0 };
  const inCluster = lifetimesMs.filter((d) => Math.abs(d / 1000 - bestBin) <= 1.5).sort((a, b) => a - b);
  return { timeoutMs: inCluster[Math.floor(inCluster.length / 2)], size: inCluster.length };
}

function isConnectLike(e: LogEvent): boolean {
  return e.signal === 'ws-connecting' || e.signal === 'reconnect' || e.kind === 'ws-handshake';
}

/**
 * Builds the run context from sessions given one at a time (and lines that joined no session), so
 * that a run too large for memory can be read partition by partition. Only numbers are kept.
 */
export class RunContextBuilder {
  // abnormal tunnel closes, kept until the end of the run is known (teardown or not)
  private readonly closeGap = new F64Column();
  private readonly closeEnd = new F64Column();
  private readonly closeIdleFlag = new I32Column();
  /** latest (re)connect of the tunnel's session */
  private readonly closeLastConnect = new F64Column();
  private readonly floodBlocks = new Map<string, number[]>();
  private readonly rolesPresent = new Set<string>();
  private readonly keylessInternal: { ts: number; status: number }[] = [];
  private edgeRefusals = 0;
  private upstreamRefusals = 0;
  private endTs = -Infinity;

  private visit(e: LogEvent): void {
    this.rolesPresent.add(e.role);
    if (!Number.isNaN(e.ts) && e.ts > this.endTs) this.endTs = e.ts;
    if (e.signal === 'sbc-flood-block' && e.keys.ip && !Number.isNaN(e.ts)) {
      let l = this.floodBlocks.get(e.keys.ip);
      if (!l) this.floodBlocks.set(e.keys.ip, (l = []));
      l.push(e.ts);
    }
    if (e.role === 'lb' && e.http?.status && e.http.status >= 400) {
      if (e.signal === 'edge-rate-limit' || e.signal === 'edge-connection-limit') this.edgeRefusals++;
      else if (typeof e.http.upstreamStatus === 'number' && e.http.upstreamStatus === e.http.status)
        this.upstreamRefusals++;
    }
  }

  /** A line that named no key (whether or not it was later matched to a session). */
  addKeyless(e: LogEvent): void {
    this.visit(e);
    if (
      e.role === 'client' &&
      !Number.isNaN(e.ts) &&
      e.sip?.status !== undefined &&
      (e.sip.direction === 'internal' || e.signal === 'internal-status')
    )
      this.keylessInternal.push({ ts: e.ts, status: e.sip.status });
  }

  addSession(s: Session): void {
    let lastConnectTs = -Infinity;
    for (const e of s.events) {
      this.visit(e);
      if (isConnectLike(e) && e.ts > lastConnectTs) lastConnectTs = e.ts;
    }
    for (const t of tunnelsOf(s.events)) {
      if (!t.abnormal) continue;
      this.closeGap.push(t.idleGap);
      this.closeEnd.push(t.end);
      this.closeIdleFlag.push(t.idleFlag ? 1 : 0);
      this.closeLastConnect.push(lastConnectTs);
    }
  }

  finish(): RunContext {
    const endTs = this.endTs;
    // tunnels still open when the logs end were torn down with the test, not cut
    const lifetimes: number[] = [];
    for (let i = 0; i < this.closeGap.length; i++) {
      const end = this.closeEnd.get(i);
      const teardown = end >= endTs - TEARDOWN_MS && !(this.closeLastConnect.get(i) > end);
      if (this.closeIdleFlag.get(i) === 1 || !teardown) lifetimes.push(this.closeGap.get(i));
    }
    for (const l of this.floodBlocks.values()) l.sort((a, b) => a - b);
    this.keylessInternal.sort((a, b) => a.ts - b.ts);
    const idle = findIdleTimeout(lifetimes);
    return {
      idleTimeoutMs: idle.timeoutMs === undefined ? undefined : Math.round(idle.timeoutMs),
      idleClusterSize: idle.size,
      edgeRefusals: this.edgeRefusals,
      upstreamRefusals: this.upstreamRefusals,
      floodBlocks: this.floodBlocks,
      rolesPresent: this.rolesPresent,
      endTs,
      keylessInternal: this.keylessInternal,
    };
  }
}

export function buildRunContext(sessions: readonly Session[], extra: readonly LogEvent[]): RunContext {
  const builder = new RunContextBuilder();
  for (const s of sessions) builder.addSession(s);
  for (const e of extra) builder.addKeyless(e);
  return builder.finish();
}
