/**
 * The shared vocabulary of the pipeline: ingest → formats → correlate → classify → report.
 * Stages talk to each other only through these types.
 */

export type Role = 'sbc' | 'lb' | 'client';

export type EventKind =
  | 'ws-handshake' // an HTTP Upgrade request/answer (LB access line, client handshake error)
  | 'ws-open' // a WebSocket is open (client "connected", LB 101)
  | 'ws-close' // a WebSocket closed (client close code, SBC connection lost)
  | 'sip-request'
  | 'sip-response'
  | 'http-request' // a non-upgrade HTTP request seen by an LB
  | 'rate-limit' // a limiter fired (pike, ratelimit, nginx limit_req, …)
  | 'timeout'
  | 'auth'
  | 'config'
  | 'error'
  | 'info';

/**
 * Normalised meaning of a line, set by the format that understood it, so that the classifier
 * never needs to know product-specific strings.
 */
export type Signal =
  // connection life cycle
  | 'ws-connecting' // client starts a WebSocket connection attempt
  | 'ws-open' // WebSocket open / handshake 101
  | 'ws-close' // WebSocket closed (see ws.closeCode)
  | 'ws-handshake-failed' // handshake answered with a non-101 HTTP status (see http.status) or failed
  | 'app-ws-failed' // an application wrapper line such as "WebSocket connection failed. Code: 1006"
  | 'reconnect' // a reconnection attempt is scheduled or started (see retryDelayMs)
  | 'keepalive' // a keep-alive (CRLF, ping/pong, OPTIONS) crossed the socket
  | 'registered' // registration succeeded (app or library line)
  | 'registration-failed' // registration failed (app or library line; see sip.status)
  // SBC refusals
  | 'sbc-flood-block' // pike / ipban: the SBC started dropping a source IP (see keys.ip)
  | 'sbc-rate-limit' // ratelimit / pipelimit / script limiter refused a request
  | 'sbc-capacity' // session / call / registration / connection capacity reached
  | 'sbc-overload' // the SBC reports overload (task queues, …)
  // edge refusals
  | 'edge-rate-limit' // limit_req / limit_conn / stick-table deny / Envoy RL / WAF
  | 'edge-connection-limit'
  // timeouts
  | 'upstream-timeout' // the edge gave up waiting for the SBC
  | 'idle-close' // an intermediary or the SBC closed an idle connection (keep-alive, tunnel timeout)
  | 'conn-reset' // a TCP connection was reset or hit EOF without a close frame
  | 'transaction-timeout' // a SIP transaction timed out (Timer F, 408)
  | 'client-timeout' // the client gave up first (connectionTimeout, handshake timeout, nginx 499)
  // client side faults
  | 'bad-header' // a malformed header in the handshake (ERR_INVALID_CHAR, invalid header line)
  | 'missing-subprotocol' // handshake without Sec-WebSocket-Protocol: sip
  | 'bad-url' // wrong URL, scheme or path
  | 'internal-status' // a status the client library made up (SIP.js "Generating internal 503")
  | 'resource-exhausted' // the load generator ran out of sockets ("Insufficient resources")
  | 'unknown-header' // a well-formed custom header was sent (harmless by itself)
  // authentication
  | 'auth-challenge' // 401/407 challenge (normal in digest auth)
  | 'auth-failed' // credentials rejected, unknown user, expired or invalid token
  | 'acl-rejected'; // ACL / policy refusal (403 Not relaying, Rejected by acl)

export interface EventKeys {
  callId?: string;
  /** user part of the SIP AOR, the user in the WebSocket URL, or a harness user tag */
  user?: string;
  /** the client's address as ip:port */
  peer?: string;
  /** a bare IP address (not a join key on its own: many users share a load generator) */
  ip?: string;
  /** a connection id that is only meaningful inside one input (nginx *N, Kamailio tcp id) */
  connId?: string;
  /** a request id (nginx $request_id, X-Request-ID, ALB trace id) */
  requestId?: string;
  /** Sec-WebSocket-Key of a handshake */
  wsKey?: string;
}

export interface SipInfo {
  method?: string; // request method, or the CSeq method of a response
  status?: number;
  reason?: string;
  cseq?: number;
  retryAfter?: number;
  /** where this message was seen from the logger's point of view */
  direction: 'sent' | 'received' | 'internal';
  /** Server / User-Agent header */
  agent?: string;
  /** From/To users, when the message names them */
  fromUser?: string;
  toUser?: string;
  /** names of the headers the message carried (lower case) */
  headers?: string[];
}

export interface HttpInfo {
  status?: number; // status the client got (0 = none)
  /** status of the upstream, null when the edge answered itself (upstream "-", <NOSRV>) */
  upstreamStatus?: number | null;
  upstream?: string;
  /** request / tunnel lifetime in ms */
  durationMs?: number;
  /** epoch ms at which the request started (when the format records it) */
  startTs?: number;
  /** HAProxy termination state, Envoy response flags, … */
  flags?: string;
  method?: string;
  url?: string;
  /** this request was a WebSocket upgrade (or went to a WebSocket path) */
  upgrade?: boolean;
  userAgent?: string;
}

export interface WsInfo {
  closeCode?: number;
  closeReason?: string;
  url?: string;
  subprotocol?: string;
  wasClean?: boolean;
}

export interface LogEvent {
  /** epoch ms in the input's own clock; the input's clock offset is applied later */
  ts: number;
  input: number;
  line: number;
  raw: string;
  role: Role;
  kind: EventKind;
  keys: EventKeys;
  signal?: Signal;
  sip?: SipInfo;
  http?: HttpInfo;
  ws?: WsInfo;
  /** reconnect delay announced by the client, ms */
  retryDelayMs?: number;
  /** a timeout value the line states (client connectionTimeout, server idle timeout), ms */
  timeoutMs?: number;
  /** the message, for rules and display */
  text?: string;
}

export type CauseId =
  | 'sbc-throttling'
  | 'edge-rate-limit'
  | 'idle-timeout'
  | 'client-misconfig'
  | 'upstream-timeout'
  | 'auth-failure'
  | 'unclassified';

export const CAUSES: readonly CauseId[] = [
  'sbc-throttling',
  'edge-rate-limit',
  'idle-timeout',
  'client-misconfig',
  'upstream-timeout',
  'auth-failure',
  'unclassified',
];

export interface Evidence {
  path: string;
  line: number;
  role: Role;
  text: string;
  /** ISO time after clock correction (added field) */
  time?: string;
}

export interface Finding {
  session: string;
  cause: CauseId;
  confidence: number;
  keys: {
    callId?: string[];
    user?: string[];
    peer?: string[];
    requestId?: string[];
  };
  firstSeen: string;
  lastSeen: string;
  explanation: string;
  remediation: string;
  evidence: Evidence[];
  /** connection attempts of this user (added field) */
  attempts?: number;
}

export interface InputSummary {
  path: string;
  format: string;
  role: Role | null;
  lines: number;
  /** lines that produced (or started) an event: lines = events + multiline + skipped + unparsed */
  events: number;
  unparsed: number;
  clockOffsetMs: number;
  /** lines cut at 64 KB (added field) */
  truncatedLines?: number;
  /** lines that belonged to a multi-line record (added field) */
  multiline?: number;
  /** lines recognised but of no diagnostic value (added field) */
  skipped?: number;
  /** first unparsed lines, for the reader (added field) */
  unparsedSamples?: { line: number; text: string }[];
  /** why the input could not be used (added field) */
  error?: string;
}

/** Run-level triage for load testers (added field). */
export interface Triage {
  /** connection attempts per session (retry amplification) */
  attemptsPerUser: number;
  /** the load when the first failure evidence appeared: the knee */
  onset?: { at: string; openSessions: number; arrivalsPerMinute: number };
  /** failed sessions per client address the edge saw (per-IP limits hit by load generators) */
  failedBySource?: { ip: string; failedSessions: number; share: number }[];
  /** seconds in which many clients (re)connected at once: synchronized retries */
  retryWaves?: { at: string; connects: number }[];
  /** the run cut into equal intervals (at most 60): load, outcomes and open connections over time */
  timeline?: { stepSec: number; intervals: TimelineInterval[] };
}

export interface TimelineInterval {
  /** start of the interval (ISO) */
  at: string;
  /** connection attempts (connects and reconnects) that started in it */
  attempts: number;
  /** registrations that succeeded in it */
  successes: number;
  /** failed sessions whose failure began in it, by cause */
  failures: Partial<Record<CauseId, number>>;
  /** WebSocket connections open at its end */
  openConnections: number;
}

export interface RuledOut {
  hypothesis: string;
  reason: string;
}

export interface Report {
  schemaVersion: 1;
  tool: { name: 'logdiag'; version: string };
  inputs: InputSummary[];
  summary: {
    sessions: number;
    failedSessions: number;
    byCause: Partial<Record<CauseId, number>>;
    primaryCause: CauseId | null;
    /** added fields */
    healthySessions?: number;
    failuresBegan?: string | null;
    verdict?: string;
    ruledOut?: RuledOut[];
    attempts?: number;
    /** the idle timeout tunnels were cut at, when one was found */
    idleTimeoutMs?: number;
    triage?: Triage;
    /** failures seen only in LB/SBC lines that name no user and matched no user's session */
    unattributed?: Partial<Record<CauseId, number>>;
  };
  findings: Finding[];
}
