/**
 * Shared reading of SIP capture text exports taken at the SBC (sngrep "Save as .txt", ngrep /
 * sipgrep, HOMER's text export; sbc-formats.md §7). Each of those formats recognises its own
 * per-message header (time, source ip:port, destination ip:port); this reads the payload under
 * it, feeds each SIP message to the shared parser once, and decides which end is the SBC.
 *
 * A capture names a source and a destination, not a direction. The SBC is the address the
 * capture's messages go through: its IP takes part in more messages than any other, on few ports,
 * while clients (and a load balancer's connections) come from many ephemeral ports. Where those
 * counts cannot tell (a single client, a leg between two servers), the message decides: a WebRTC
 * client writes an `.invalid` host into its Via, servers listen on well-known ports, a request the
 * SBC relays carries its Via on top of the client's. The first messages are held until the counts
 * say something.
 */
import type { LogEvent } from '../model.js';
import { isSipStartLine, parseSipMessage, sipCaptureEvent, type SipMessage } from './sip-message.js';
import type { LineOutcome, LineParser, ParseContext } from './types.js';

export interface Endpoint {
  /** the address without brackets */
  host: string;
  port: string;
}

export interface CaptureHeader {
  /** epoch ms, NaN when the capture printed no absolute time */
  ts: number;
  src: Endpoint;
  dst: Endpoint;
  /** payload printed on the header line itself (ngrep -W single) */
  inline?: string;
}

export interface CaptureSpec {
  /** the per-message header line, or undefined */
  header(line: string, ctx: ParseContext): CaptureHeader | undefined;
  /** lines between messages that belong to the format and say nothing (banners, packet marks) */
  skip?(line: string): boolean;
  /** a line that closes the message being read (ngrep's `#` packet marks) */
  closes?(line: string): boolean;
  /** clean-up of every line first (colour codes) */
  clean?(line: string): string;
  /** the SIP text of a message's payload lines (ngrep prints each CR as a trailing '.') */
  text?(lines: string[]): string[];
}

/** "10.0.0.1:5060", "[2001:db8::1]:5060" or sngrep's and HOMER's bare "2001:db8::1:5060". */
export function parseEndpoint(text: string): Endpoint | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    const port = close > 1 ? text.slice(close + 2) : '';
    return /^\d{1,5}$/.test(port) ? { host: text.slice(1, close), port } : undefined;
  }
  const colon = text.lastIndexOf(':');
  const port = text.slice(colon + 1);
  if (colon <= 0 || !/^\d{1,5}$/.test(port)) return undefined;
  return { host: text.slice(0, colon), port };
}

/** Both ends of a capture header, or undefined when either is not an address. */
export function parseEndpoints(src: string, dst: string): { src: Endpoint; dst: Endpoint } | undefined {
  const s = parseEndpoint(src);
  const d = parseEndpoint(dst);
  return s && d ? { src: s, dst: d } : undefined;
}

function shown(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Ports SIP servers, SBC WebSocket listeners and load balancers listen on. */
const SERVER_PORTS = new Set([
  80, 443, 4443, 5060, 5061, 5062, 5063, 5064, 5065, 5066, 5067, 5068, 5069, 5070, 5080, 5081, 5090, 7443,
  8000, 8080, 8088, 8089, 8443, 9443, 10443,
]);
/** The lowest port of the Linux ephemeral range; Windows and macOS start at 49152. */
const EPHEMERAL_FROM = 32768;

/** 1: a server's port, -1: a client's ephemeral port, 0: cannot tell. */
function portClass(port: string): number {
  const p = Number(port);
  if (SERVER_PORTS.has(p)) return 1;
  return p >= EPHEMERAL_FROM ? -1 : 0;
}

const VIA_HOP = /^SIP\/2\.0\/([A-Za-z]{2,4})\s{1,8}([^\s;:,]{1,255})/;

function viaCount(msg: SipMessage): number {
  let n = 0;
  for (const h of msg.headers) if (h === 'via') n++;
  return n;
}

/** Ports remembered per IP: enough to tell a server (one or two) from a client host (many). */
const MAX_PORTS = 64;
/** Messages held before the first decision. */
const PRIME = 64;

/** Which end of a capture is the SBC: counts of messages and ports per IP. */
export class CaptureSides {
  private readonly hosts = new Map<string, { messages: number; ports: Set<string> }>();
  private seen = 0;

  observe(h: CaptureHeader): void {
    this.count(h.src);
    this.count(h.dst);
    this.seen++;
  }

  /** enough messages seen for the counts to mean something */
  get primed(): boolean {
    return this.seen >= PRIME;
  }

  private count(e: Endpoint): void {
    let s = this.hosts.get(e.host);
    if (!s) this.hosts.set(e.host, (s = { messages: 0, ports: new Set() }));
    s.messages++;
    if (s.ports.size < MAX_PORTS) s.ports.add(e.port);
  }

  private score(host: string): number {
    const s = this.hosts.get(host);
    // a server listens on a port or two; a client host or a proxy's connections use many
    return s ? s.messages - 2 * Math.max(0, s.ports.size - 2) : 0;
  }

  /** The SBC's view of a message: 'received' when the destination is the SBC. */
  direction(h: CaptureHeader, msg: SipMessage): 'sent' | 'received' {
    const hop = msg.via ? VIA_HOP.exec(msg.via) : null;
    // a WebRTC client's own Via (RFC 7118 clients use a random `.invalid` host): the client's request,
    // or the SBC's answer to it
    if (hop && hop[2].toLowerCase().endsWith('.invalid')) return msg.isRequest ? 'received' : 'sent';
    const bySrc = this.score(h.src.host);
    const byDst = this.score(h.dst.host);
    if (Math.abs(bySrc - byDst) >= 2) return byDst > bySrc ? 'received' : 'sent';
    let toward = portClass(h.dst.port) - portClass(h.src.port);
    const relayed = viaCount(msg) >= 2;
    // a request with two Vias was relayed by the sender; a response with two goes back to a relay
    if (msg.isRequest) toward += relayed ? -1 : 1;
    else toward += relayed ? 1 : -1;
    if (toward !== 0) return toward > 0 ? 'received' : 'sent';
    return msg.isRequest ? 'received' : 'sent';
  }

  /**
   * The remote party's address names one client's connection: a WebSocket hop, a client's port, or
   * a UA registering itself. A registrar's or trunk's address, which every user shares, does not.
   */
  static peerIsConnection(remote: Endpoint, msg: SipMessage, direction: 'sent' | 'received'): boolean {
    const hop = msg.via ? VIA_HOP.exec(msg.via) : null;
    if (hop && /^wss?$/i.test(hop[1])) return true;
    if (portClass(remote.port) !== 1) return true;
    const startedByRemote = msg.isRequest === (direction === 'received');
    return startedByRemote && msg.method === 'REGISTER';
  }
}

/** Lines a message may take in a capture; the rest of an oversized payload is not kept. */
const MAX_LINES = 500;
/** Bytes a WebSocket frame header leaves before the SIP text in a raw packet dump. */
const MAX_FRAME_PREFIX = 14;

/** The SIP start line in a payload's first line, after a frame header printed as text. */
function sipStart(line: string): string | undefined {
  if (isSipStartLine(line)) return line;
  if (line.length > 2000) return undefined;
  for (let k = 1; k <= MAX_FRAME_PREFIX && k < line.length; k++) {
    const rest = line.slice(k);
    if (isSipStartLine(rest)) return rest;
  }
  return undefined;
}

/** The SIP messages in a payload (a TCP segment may carry more than one). */
export function messagesIn(lines: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] | undefined;
  let junk = 0;
  let blank = false;
  for (const line of lines) {
    if (!current) {
      if (line.trim() === '') continue;
      const start = sipStart(line);
      if (start === undefined) {
        // a frame header may contain a line feed: a short line before the start line is still the header
        if (line.length <= MAX_FRAME_PREFIX && ++junk <= 2) continue;
        break;
      }
      out.push((current = [start]));
      blank = false;
      continue;
    }
    if (blank && isSipStartLine(line)) {
      out.push((current = [line]));
      blank = false;
      continue;
    }
    if (line.trim() === '') blank = true;
    current.push(line);
  }
  return out;
}

interface Block {
  header: CaptureHeader;
  lineNo: number;
  raw: string;
  lines: string[];
  /** the line that makes this block's event was already counted */
  counted: boolean;
}

interface Pending {
  header: CaptureHeader;
  lineNo: number;
  raw: string;
  msg: SipMessage;
  startLine: string;
}

const MAX_RAW = 300;

/** A parser for one capture format: header lines start messages, the spec's payload reading does the rest. */
export function createCaptureParser(spec: CaptureSpec, ctx: ParseContext): LineParser {
  const sides = new CaptureSides();
  const held: Pending[] = [];
  let block: Block | undefined;

  function toEvent(p: Pending): LogEvent {
    const direction = sides.direction(p.header, p.msg);
    const remote = direction === 'sent' ? p.header.dst : p.header.src;
    return sipCaptureEvent(
      {
        input: ctx.input,
        lineNo: p.lineNo,
        ts: p.header.ts,
        raw: p.raw,
        direction,
        remoteHost: shown(remote.host),
        remotePort: remote.port,
        peer: CaptureSides.peerIsConnection(remote, p.msg, direction),
      },
      p.msg,
      p.startLine,
    );
  }

  function release(emit: (event: LogEvent) => void, all: boolean): void {
    if (!all && !sides.primed) return;
    for (const p of held.splice(0)) emit(toEvent(p));
  }

  function finish(emit: (event: LogEvent) => void): void {
    const b = block;
    block = undefined;
    if (!b) return;
    const text = spec.text ? spec.text(b.lines) : b.lines;
    for (const lines of messagesIn(text)) {
      const msg = parseSipMessage(lines);
      if (!msg) continue;
      sides.observe(b.header);
      held.push({ header: b.header, lineNo: b.lineNo, raw: b.raw, msg, startLine: lines[0].trim() });
    }
    release(emit, false);
  }

  return {
    push(line, lineNo, emit): LineOutcome {
      const text = spec.clean ? spec.clean(line) : line.endsWith('\r') ? line.slice(0, -1) : line;
      const header = text.length <= 2000 ? spec.header(text, ctx) : undefined;
      if (header) {
        finish(emit);
        const inline = header.inline ? [header.inline] : [];
        block = { header, lineNo, raw: text.slice(0, MAX_RAW), lines: inline, counted: false };
        if (inline.length && sipStart(inline[0]) !== undefined) {
          block.counted = true;
          return 'event';
        }
        return 'part';
      }
      if (spec.closes?.(text)) {
        const had = block !== undefined;
        finish(emit);
        return had ? 'part' : 'skip';
      }
      if (!block) {
        if (text.trim() === '' || spec.skip?.(text)) return 'skip';
        return 'unparsed';
      }
      if (block.lines.length < MAX_LINES) block.lines.push(text);
      if (!block.counted && text.trim() !== '') {
        // the start line makes the event (a short line before it is a frame header's remainder)
        if (sipStart(text) !== undefined) {
          block.counted = true;
          return 'event';
        }
        if (text.length > MAX_FRAME_PREFIX) block.counted = true;
      }
      return 'part';
    },
    end(emit) {
      finish(emit);
      release(emit, true);
    },
  };
}
