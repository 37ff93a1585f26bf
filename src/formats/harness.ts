/**
 * The tolerant reader for load-harness logs of any shape: any line that starts with a timestamp
 * it recognises, read with the shared client-text reading, plus multi-line SIP messages embedded
 * between such lines. It is tried last, so specific formats win when they match.
 */
import type { LogEvent } from '../model.js';
import { isSipStartLine, parseSipMessage } from './sip-message.js';
import { readClientText } from './text-signals.js';
import { leadingTimestamp, startsWithTimestamp } from './time.js';
import type { LineParser, LogFormat, ParseContext } from './types.js';

const SENT_WORDS = /\b(?:send|sending|sent|transmitting|outgoing|tx|>>|-->)\b|->\s*$|>>\s*$/i;

interface PendingSip {
  lineNo: number;
  ts: number;
  raw: string;
  direction: 'sent' | 'received';
  user?: string;
  lines: string[];
}

export function sipDumpEvent(
  pending: {
    lineNo: number;
    ts: number;
    raw: string;
    direction: 'sent' | 'received';
    user?: string;
    lines: string[];
  },
  ctx: ParseContext,
): LogEvent | undefined {
  const msg = parseSipMessage(pending.lines);
  if (!msg) return undefined;
  const user = msg.isRequest ? (msg.fromUser ?? msg.toUser) : (msg.toUser ?? msg.fromUser);
  return {
    ts: pending.ts,
    input: ctx.input,
    line: pending.lineNo,
    raw: `${pending.raw} ${pending.lines.find((l) => l.trim() !== '')?.trim() ?? ''}`.trim(),
    role: 'client',
    kind: msg.isRequest ? 'sip-request' : 'sip-response',
    keys: { callId: msg.callId, user: user ?? pending.user },
    sip: {
      method: msg.method,
      status: msg.status,
      reason: msg.reason,
      cseq: msg.cseq,
      retryAfter: msg.retryAfter,
      direction: pending.direction,
      agent: msg.agent,
      fromUser: msg.fromUser,
      toUser: msg.toUser,
      headers: msg.headers,
    },
    text: msg.isRequest
      ? `${msg.method} ${msg.requestUri ?? ''}`
      : `SIP/2.0 ${msg.status} ${msg.reason ?? ''}`,
  };
}

/** A SIP start line at the end of a harness line ("… got SIP/2.0 503 Limiting", "… REGISTER sip:x SIP/2.0"). */
function inlineSipStart(text: string): string | undefined {
  const status = text.indexOf('SIP/2.0 ');
  if (status >= 0 && /^SIP\/2\.0 \d{3}(?: |$)/.test(text.slice(status, status + 12)))
    return text.slice(status);
  if (!text.endsWith(' SIP/2.0')) return undefined;
  const tokens = text.split(' ');
  const n = tokens.length;
  if (n >= 3 && /^[A-Z]{3,12}$/.test(tokens[n - 3]) && /^sips?:/.test(tokens[n - 2]))
    return tokens.slice(n - 3).join(' ');
  return undefined;
}

function createHarnessParser(ctx: ParseContext): LineParser {
  let pending: PendingSip | undefined;
  let awaitingSip: Omit<PendingSip, 'lines'> | undefined;

  function flush(emit: (e: LogEvent) => void): void {
    if (!pending) return;
    const event = sipDumpEvent(pending, ctx);
    if (event) emit(event);
    pending = undefined;
  }

  return {
    push(line, lineNo, emit) {
      const lead = leadingTimestamp(line, ctx);
      if (!lead) {
        if (pending) {
          pending.lines.push(line);
          return 'part';
        }
        if (awaitingSip && (line.trim() === '' || isSipStartLine(line))) {
          if (line.trim() === '') return 'part';
          pending = { ...awaitingSip, lines: [line] };
          awaitingSip = undefined;
          return 'part';
        }
        return line.trim() === '' ? 'skip' : 'unparsed';
      }
      flush(emit);
      awaitingSip = undefined;
      const text = line.slice(lead.length);
      const trimmed = text.trimEnd();
      const inlineSip = inlineSipStart(trimmed);
      if (
        /(?:message|msg|sip|request|response|sent|received|sending|receiving):?$/i.test(trimmed) ||
        inlineSip
      ) {
        const reading = readClientText(text);
        const start = {
          lineNo,
          ts: lead.ts,
          raw: line,
          direction: SENT_WORDS.test(text) ? ('sent' as const) : ('received' as const),
          user: reading.keys.user,
        };
        if (inlineSip) {
          pending = { ...start, lines: [inlineSip] };
          return 'event';
        }
        awaitingSip = start;
        return 'event';
      }
      const reading = readClientText(text);
      emit({
        ts: lead.ts,
        input: ctx.input,
        line: lineNo,
        raw: line,
        role: 'client',
        kind: reading.kind,
        keys: reading.keys,
        signal: reading.signal,
        ws: reading.ws,
        http: reading.http,
        sip: reading.sip,
        retryDelayMs: reading.retryDelayMs,
        timeoutMs: reading.timeoutMs,
        text,
      });
      return 'event';
    },
    end(emit) {
      flush(emit);
    },
  };
}

export const harness: LogFormat = {
  name: 'harness',
  role: 'client',
  description:
    'Any load-harness log whose lines start with a timestamp (ISO, syslog, Date.toString(), [YYYY-MM-DD HH:MM:SS,mmm], epoch, …)',
  samples: [
    {
      line: '[2024-01-31 12:00:00,123] loadgen-1/INFO/locust.runners: [agent-042] registered, 12 users running',
      source:
        'Locust default log format `[%(asctime)s] %(hostname)s/%(levelname)s/%(name)s: %(message)s` (client-formats.md §5.4)',
    },
    {
      line: "[2024-01-31 12:00:01,456] loadgen-1/ERROR/locust.user: [agent-043] WebSocketBadStatusException('Handshake status 503 Service Unavailable')",
      source:
        'Locust default log format with the websocket-client failure text it reports (client-formats.md §5.4)',
    },
  ],
  sniff(line) {
    return startsWithTimestamp(line) ? 0.3 : 0;
  },
  createParser: createHarnessParser,
};
