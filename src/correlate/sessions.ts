/**
 * Correlation: joins events into sessions through the keys they share (union-find over key
 * values). A session never holds two different users: a link that would join them is refused,
 * so a recycled port or a shared proxy address cannot glue two users together.
 */
import type { LogEvent } from '../model.js';
import { detach, retainEvent, StringPool } from './retain.js';
import { SpillDir, SpillWriter } from './spill.js';
import { MemoryRun, SpillRun, type CorrelatedRun } from './store.js';

export interface Session {
  id: string;
  user?: string;
  events: LogEvent[];
}

/** Users that name nobody in particular. */
const NON_USERS = /^(?:anonymous(?:\..*)?|unknown|null|undefined|-|user|agent|test)$/i;

export function normaliseUser(user: string | undefined): string | undefined {
  if (!user) return undefined;
  const u = user.trim();
  if (u === '' || u.length > 128 || NON_USERS.test(u)) return undefined;
  return u;
}

/** Connection ids are per product instance: nginx's access and error logs share `*N`. */
function connScope(formatName: string): string {
  return formatName.replace(/-(?:access|error)$/, '');
}

/** "[lt-c07]" or "| lt-c07 |": a token with a digit, as harnesses tag their users. */
const TAG = /\[([A-Za-z][\w.@-]{0,40}\d[\w.@-]{0,20})\]|\| ([A-Za-z][\w.@-]{0,40}\d[\w.@-]{0,20}) \|/g;

/** Events kept per session before only notable ones are kept. */
export const MAX_EVENTS_PER_SESSION = 20_000;

function isNotable(e: LogEvent): boolean {
  if (e.sip?.status !== undefined) return e.sip.status >= 300;
  return e.signal !== undefined && e.signal !== 'keepalive' && e.signal !== 'registered';
}

/** Kept events held in memory before the run spills them to disk (about 1–2 KB each in memory). */
export const MAX_EVENTS_IN_MEMORY = 50_000;

/** Kept events per partition of a spilled run: one partition is in memory at a time. */
export const PARTITION_EVENTS = 4_000;

export interface SpillOptions {
  /** kept events held in memory before spilling (default MAX_EVENTS_IN_MEMORY) */
  maxEventsInMemory?: number;
  /** kept events per partition of a spilled run (default PARTITION_EVENTS) */
  partitionEvents?: number;
  /** directory for spill files (default: the system's temporary directory) */
  tmpDir?: string;
}

export class SessionBuilder {
  private readonly parent: number[] = [];
  private readonly keyNode = new Map<string, number>();
  private readonly rootUser = new Map<number, string>();
  private readonly events: LogEvent[] = [];
  private readonly eventNode: number[] = [];
  private readonly keyless: LogEvent[] = [];
  /** events seen per session (union-find root) */
  private readonly perRoot = new Map<number, number>();
  private readonly strings = new StringPool();
  /** routine events dropped from sessions past MAX_EVENTS_PER_SESSION */
  capped = 0;
  /** arrival number of the next kept event */
  private seq = 0;
  private spill: { dir: SpillDir; events: SpillWriter; keyless: SpillWriter } | undefined;
  private keylessCount = 0;
  private readonly maxEventsInMemory: number;

  constructor(
    private readonly formatOfInput: (input: number) => string,
    private readonly spillOptions: SpillOptions = {},
  ) {
    this.maxEventsInMemory = spillOptions.maxEventsInMemory ?? MAX_EVENTS_IN_MEMORY;
  }

  /** Whether kept events went to spill files (the run was larger than memory should hold). */
  get spilled(): boolean {
    return this.spill !== undefined;
  }

  /** Moves every held event to spill files; later events go there directly. */
  private startSpill(): void {
    const dir = new SpillDir(this.spillOptions.tmpDir);
    const spill = {
      dir,
      events: new SpillWriter(dir.file('events')),
      keyless: new SpillWriter(dir.file('keyless'), 256 << 10),
    };
    this.spill = spill;
    this.events.forEach((e, i) => spill.events.write(this.eventNode[i], i, e));
    this.keyless.forEach((e, i) => spill.keyless.write(0, i, e));
    this.events.length = 0;
    this.eventNode.length = 0;
    this.keyless.length = 0;
  }

  private find(n: number): number {
    let root = n;
    while (this.parent[root] !== root) root = this.parent[root];
    while (this.parent[n] !== root) {
      const next = this.parent[n];
      this.parent[n] = root;
      n = next;
    }
    return root;
  }

  private node(key: string, user?: string): number {
    let n = this.keyNode.get(key);
    if (n === undefined) {
      n = this.parent.length;
      this.parent.push(n);
      // a key outlives its line: a flat copy keeps no part of the line (or the chunk) alive
      this.keyNode.set(detach(key), n);
      if (user) this.rootUser.set(n, this.strings.intern(user));
    }
    return n;
  }

  /** Joins two nodes unless that would put two users in one session. */
  private union(a: number, b: number): boolean {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return true;
    const ua = this.rootUser.get(ra);
    const ub = this.rootUser.get(rb);
    if (ua && ub && ua !== ub) return false;
    this.parent[rb] = ra;
    if (!ua && ub) this.rootUser.set(ra, ub);
    this.rootUser.delete(rb);
    const moved = this.perRoot.get(rb);
    if (moved !== undefined) {
      this.perRoot.set(ra, (this.perRoot.get(ra) ?? 0) + moved);
      this.perRoot.delete(rb);
    }
    return true;
  }

  /** Key values of an event, strongest first. */
  private keysOf(event: LogEvent): { key: string; user?: string }[] {
    const k = event.keys;
    const out: { key: string; user?: string }[] = [];
    if (k.callId) out.push({ key: `c:${k.callId}` });
    if (k.requestId) out.push({ key: `r:${k.requestId}` });
    if (k.wsKey) out.push({ key: `k:${k.wsKey}` });
    const user = normaliseUser(k.user);
    if (user) out.push({ key: `u:${user}`, user });
    if (k.connId) out.push({ key: `n:${connScope(this.formatOfInput(event.input))}:${k.connId}` });
    // a client names the server's address, not its own: only LB and SBC peers identify a client
    if (k.peer && event.role !== 'client') out.push({ key: `p:${k.peer}` });
    return out;
  }

  add(event: LogEvent): void {
    if (event.role === 'client' && !event.keys.user) this.knownTag(event);
    // a spilled event is written at once: it keeps nothing alive
    if (!this.spill) retainEvent(event, this.strings);
    const keys = this.keysOf(event);
    if (keys.length === 0) {
      if (this.spill) this.spill.keyless.write(0, this.keylessCount, event);
      else this.keyless.push(event);
      this.keylessCount++;
      return;
    }
    const nodes = keys.map((k) => this.node(k.key, k.user));
    const anchor = nodes[0];
    for (let i = 1; i < nodes.length; i++) this.union(anchor, nodes[i]);
    // one endless session (a million refreshes, a monitor's pings with a new Call-ID each) is
    // capped: past the cap only lines that say something went wrong are kept
    const root = this.find(anchor);
    const n = (this.perRoot.get(root) ?? 0) + 1;
    this.perRoot.set(root, n);
    if (n > MAX_EVENTS_PER_SESSION && !isNotable(event)) {
      this.capped++;
      return;
    }
    if (this.spill) this.spill.events.write(anchor, this.seq, event);
    else {
      this.events.push(event);
      this.eventNode.push(anchor);
      if (this.events.length > this.maxEventsInMemory) this.startSpill();
    }
    this.seq++;
  }

  /**
   * A harness names its users in its own way ("[lt-c07] registration failed", "| ext1001 |");
   * a bracketed or piped token that is already known as a user names that user.
   */
  private knownTag(event: LogEvent): void {
    const raw = event.raw.length > 400 ? event.raw.slice(0, 400) : event.raw;
    TAG.lastIndex = 0;
    for (let m = TAG.exec(raw); m; m = TAG.exec(raw)) {
      const token = m[1] ?? m[2];
      if (this.keyNode.has(`u:${token}`)) {
        event.keys.user = token;
        return;
      }
    }
  }

  /**
   * A user named by a line that is not kept (a harness's "creating UA sip:agent-7@…"): later lines
   * that only tag that user ("[agent-7] …") still find it.
   */
  noteUser(user: string | undefined): void {
    const u = normaliseUser(user);
    // node() stores its own flat copy of the key and the user
    if (u) this.node(`u:${u}`, u);
  }

  /** The correlated run: in memory, or read back from the spill files partition by partition. */
  finish(): CorrelatedRun {
    const spill = this.spill;
    if (!spill) {
      const run = new MemoryRun(this.build(), this.keyless);
      this.release();
      return run;
    }
    const rootOf = new Int32Array(this.parent.length);
    for (let n = 0; n < rootOf.length; n++) rootOf[n] = this.find(n);
    const users = new Map(this.rootUser);
    const run = new SpillRun({
      ...spill,
      rootOf,
      userOf: (root) => users.get(root),
      eventsPerRoot: this.perRoot,
      partitionEvents: Math.min(
        this.spillOptions.partitionEvents ?? PARTITION_EVENTS,
        this.maxEventsInMemory,
      ),
    });
    this.release();
    return run;
  }

  /** The keys of a long run take tens of MB: none of it is needed once the run is correlated. */
  private release(): void {
    this.keyNode.clear();
    this.parent.length = 0;
    this.perRoot.clear();
    this.rootUser.clear();
    this.events.length = 0;
    this.eventNode.length = 0;
    this.strings.clear();
  }

  build(): Session[] {
    const byRoot = new Map<number, Session>();
    for (let i = 0; i < this.events.length; i++) {
      const root = this.find(this.eventNode[i]);
      let s = byRoot.get(root);
      if (!s) {
        s = { id: '', user: this.rootUser.get(root), events: [] };
        byRoot.set(root, s);
      }
      s.events.push(this.events[i]);
    }
    const sessions = [...byRoot.values()];
    for (const s of sessions) {
      s.events.sort(byTime);
      s.id = sessionId(s);
    }
    return sessions;
  }
}

export function byTime(a: LogEvent, b: LogEvent): number {
  const ta = Number.isNaN(a.ts) ? Infinity : a.ts;
  const tb = Number.isNaN(b.ts) ? Infinity : b.ts;
  return ta - tb || a.input - b.input || a.line - b.line;
}

export function sessionId(s: Session): string {
  if (s.user) return `user:${s.user}`;
  const first = s.events[0];
  const k = first.keys;
  if (k.callId) return `call:${k.callId}`;
  if (k.requestId) return `req:${k.requestId}`;
  if (k.peer) return `peer:${k.peer}`;
  if (k.connId) return `conn:${first.input}:${k.connId}`;
  return `line:${first.input}:${first.line}`;
}
