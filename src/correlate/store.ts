/**
 * Where the correlated sessions of a run live between the stages: in memory for ordinary runs, in
 * spill files partitioned by session once a run keeps more events than memory should. Both give the
 * stages the same view: passes over whole, time-sorted sessions, with clock offsets and time
 * matching applied once they are known, so a spilled run reaches the same verdicts.
 */
import type { LogEvent } from '../model.js';
import { applyAttachment, type AttachmentPlan } from './attach.js';
import { applyClocks, shiftEvent } from './clock.js';
import { byTime, sessionId, type Session } from './sessions.js';
import { decodeEvent, readSpill, SpillWriter, type SpillDir } from './spill.js';

export interface CorrelatedRun {
  /** sessions live in spill files (their lines are read back for every pass) */
  readonly spilled: boolean;
  /** some session names a user */
  readonly anyUser: boolean;
  /**
   * Every session, time-sorted. `ref` identifies the session in an AttachmentPlan; `order` is the
   * arrival order of its first line (the order sessions are given in memory).
   */
  forEachSession(visit: (s: Session, ref: number, order: number) => void): void;
  /** Lines that named no key, in arrival order; `ref` identifies the line in an AttachmentPlan. */
  forEachKeyless(visit: (e: LogEvent, ref: number) => void): void;
  /** From now on, lines are on the reference clock. */
  setClocks(offsets: readonly number[]): void;
  /** From now on, orphans and keyless lines are part of their owners' sessions. */
  setAttachment(plan: AttachmentPlan): void;
  close(): void;
}

export class MemoryRun implements CorrelatedRun {
  readonly spilled = false;
  readonly anyUser: boolean;

  constructor(
    private sessions: Session[],
    private readonly keyless: LogEvent[],
  ) {
    this.anyUser = sessions.some((s) => s.user);
  }

  forEachSession(visit: (s: Session, ref: number, order: number) => void): void {
    this.sessions.forEach((s, i) => visit(s, i, i));
  }

  forEachKeyless(visit: (e: LogEvent, ref: number) => void): void {
    this.keyless.forEach(visit);
  }

  setClocks(offsets: readonly number[]): void {
    applyClocks(this.sessions, this.keyless, offsets);
    // sessions were sorted on each input's own clock
    if (offsets.some((o) => o !== 0)) for (const s of this.sessions) s.events.sort(byTime);
  }

  setAttachment(plan: AttachmentPlan): void {
    if (this.anyUser) this.sessions = applyAttachment(this.sessions, this.keyless, plan);
  }

  close(): void {}
}

/** What the session builder hands over when it spilled. */
export interface SpilledEvents {
  dir: SpillDir;
  /** every kept event: node = its anchor node, seq = arrival number */
  events: SpillWriter;
  /** keyless lines: seq = their index */
  keyless: SpillWriter;
  /** union-find root of every node */
  rootOf: Int32Array;
  /** the user of a root, when it names one */
  userOf: (root: number) => string | undefined;
  /** events per session root (for balancing partitions) */
  eventsPerRoot: ReadonlyMap<number, number>;
  /** events per partition to aim at */
  partitionEvents: number;
}

export class SpillRun implements CorrelatedRun {
  readonly spilled = true;
  readonly anyUser: boolean;
  private readonly partOf: Int32Array;
  private readonly parts: string[] = [];
  private readonly addenda: string[] = [];
  private offsets: readonly number[] | undefined;
  private plan: AttachmentPlan | undefined;
  /** orphan roots moved into another partition: skipped where they were written */
  private readonly moved = new Set<number>();

  constructor(private readonly spill: SpilledEvents) {
    const { rootOf, eventsPerRoot: perRoot, partitionEvents, dir } = spill;
    // balance partitions by events per session, in order of session creation
    this.partOf = new Int32Array(rootOf.length).fill(-1);
    let part = 0;
    let filled = 0;
    let anyUser = false;
    for (const root of [...perRoot.keys()].sort((a, b) => a - b)) {
      if (filled > 0 && filled + perRoot.get(root)! > partitionEvents) {
        part++;
        filled = 0;
      }
      this.partOf[root] = part;
      filled += perRoot.get(root)!;
      if (spill.userOf(root) !== undefined) anyUser = true;
    }
    this.anyUser = anyUser;
    const partitions = perRoot.size ? part + 1 : 0;
    const writers: SpillWriter[] = [];
    // the write buffers of all partitions together stay near ROUTING_BUFFERS
    const bufferBytes = Math.max(16 << 10, Math.min(256 << 10, Math.floor(ROUTING_BUFFERS / partitions)));
    for (let p = 0; p < partitions; p++) {
      this.parts.push(dir.file(`part-${p}`));
      this.addenda.push(dir.file(`part-${p}.more`));
      writers.push(new SpillWriter(this.parts[p], bufferBytes));
    }
    spill.events.close();
    readSpill(spill.events.path, (node, seq, payload) => {
      const root = rootOf[node];
      writers[this.partOf[root]].writeRaw(root, seq, payload);
    });
    for (const w of writers) w.close();
    dir.removeFile(spill.events.path);
    spill.keyless.close();
  }

  forEachSession(visit: (s: Session, ref: number, order: number) => void): void {
    for (let p = 0; p < this.parts.length; p++) {
      for (const { session, root, order } of this.load(p)) visit(session, root, order);
    }
  }

  private load(p: number): { session: Session; root: number; order: number }[] {
    const byRoot = new Map<number, { session: Session; root: number; order: number }>();
    const orphanOwner = this.plan?.orphanOwner;
    const add = (root: number, seq: number, payload: Buffer) => {
      const owner = orphanOwner?.get(root);
      if (owner !== undefined) root = owner;
      const e = decodeEvent(payload.toString('utf8'));
      if (this.offsets) shiftEvent(e, this.offsets);
      let entry = byRoot.get(root);
      if (!entry) {
        entry = { session: { id: '', user: this.spill.userOf(root), events: [] }, root, order: seq };
        byRoot.set(root, entry);
      } else if (seq < entry.order) entry.order = seq;
      entry.session.events.push(e);
    };
    readSpill(this.parts[p], (root, seq, payload) => {
      if (!this.moved.has(root)) add(root, seq, payload);
    });
    readSpill(this.addenda[p], add);
    const sessions = [...byRoot.values()].sort((a, b) => a.order - b.order);
    for (const { session } of sessions) {
      session.events.sort(byTime);
      session.id = sessionId(session);
    }
    return sessions;
  }

  forEachKeyless(visit: (e: LogEvent, ref: number) => void): void {
    readSpill(this.spill.keyless.path, (_node, seq, payload) => {
      const e = decodeEvent(payload.toString('utf8'));
      if (this.offsets) shiftEvent(e, this.offsets);
      visit(e, seq);
    });
  }

  setClocks(offsets: readonly number[]): void {
    this.offsets = offsets;
  }

  /**
   * Orphans matched to an owner in another partition, and matched keyless lines, are copied into
   * the owner's partition (its addendum) under the owner's root.
   */
  setAttachment(plan: AttachmentPlan): void {
    this.plan = plan;
    const writers = new Map<number, SpillWriter>();
    const writerFor = (p: number) => {
      let w = writers.get(p);
      if (!w) writers.set(p, (w = new SpillWriter(this.addenda[p], 64 << 10)));
      return w;
    };
    for (const [orphan, owner] of plan.orphanOwner) {
      if (this.partOf[orphan] !== this.partOf[owner]) this.moved.add(orphan);
    }
    if (this.moved.size > 0) {
      for (let p = 0; p < this.parts.length; p++) {
        readSpill(this.parts[p], (root, seq, payload) => {
          if (!this.moved.has(root)) return;
          const owner = plan.orphanOwner.get(root)!;
          writerFor(this.partOf[owner]).writeRaw(owner, seq, payload);
        });
      }
    }
    if (plan.keylessOwner.size > 0) {
      // a keyless line sorts after the session lines that arrived with it (memory appends it last)
      readSpill(this.spill.keyless.path, (_node, seq, payload) => {
        const owner = plan.keylessOwner.get(seq);
        if (owner !== undefined) writerFor(this.partOf[owner]).writeRaw(owner, KEYLESS_ORDER, payload);
      });
    }
    for (const w of writers.values()) w.close();
  }

  close(): void {
    this.spill.dir.remove();
  }
}

/** Write buffers shared by the partitions while a spill file is routed to them. */
const ROUTING_BUFFERS = 16 << 20;

/** Arrival number given to attached keyless lines: they never start a session. */
const KEYLESS_ORDER = 0xffffffff;
