import { describe, it, expect } from 'vitest';
import { kamailio } from '../../src/formats/kamailio.js';
import { jsonLines } from '../../src/formats/json-lines.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(lines: readonly string[], year = 2024): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = kamailio.createParser(utcContext(year, 3));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

function parseOne(line: string, year = 2024): LogEvent {
  const { events } = parse([line], year);
  expect(events).toHaveLength(1);
  return events[0];
}

describe('kamailio sniff', () => {
  it('scores every sample high', () => {
    expect(kamailio.samples.length).toBeGreaterThanOrEqual(8);
    for (const sample of kamailio.samples) {
      expect(sample.source).not.toBe('');
      expect(kamailio.sniff(sample.line), sample.line).toBeGreaterThanOrEqual(0.8);
    }
  });

  it('does not claim syslog lines of other daemons', () => {
    const others = [
      // /work/shared/peer-corpus/lnav-syslog.log (tstack/lnav test/logfile_syslog.0)
      'Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed',
      'Nov  3 09:23:38 veridian automount[16442]: attempting to mount entry /auto/opt',
      'Nov  3 09:47:02 veridian sudo: timstack : TTY=pts/6 ; PWD=/auto/wstimstack/rpms/lbuild/test ; USER=root ; COMMAND=/usr/bin/tail /var/log/messages',
      // the automount line quoted in the task brief (lnav syslog sample)
      'Jul 27 08:46:33 Tim-Stacks-iMac automount[14085]: lookup(file): lookup for foobar failed',
      // /work/shared/peer-corpus/lnav-haproxy.log (tstack/lnav test/logfile_haproxy.0)
      'Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy prod_http_in started.',
      // /work/shared/peer-corpus/lnav-access.log (tstack/lnav test/logfile_access_log.0)
      '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"',
    ];
    for (const line of others) expect(kamailio.sniff(line), line).toBeLessThan(0.1);
  });

  it('does not claim OpenSIPS lines (no space after the level colon)', () => {
    // sbc-formats.md §2.2, OpenSIPS/opensips issues #875, #987, #3525
    const opensips = [
      ' /usr/sbin/opensips[27201]: ERROR:proto_ws:ws_parse_req_handshake: Sec-WebSocket-Protocol header not present!',
      'Sep 23 11:13:48 ip-172-31-34-24 /usr/sbin/opensips[172700]: ERROR:proto_wss:wss_read_req: cannot complete WebSocket handshake',
      'Nov 15 23:08:00 [58] ERROR:proto_wss:ws_parse_req_handshake: cannot parse headers',
    ];
    for (const line of opensips) expect(kamailio.sniff(line), line).toBeLessThan(0.1);
  });

  it('gives the Kamailio JSON shapes a higher score than generic JSON lines', () => {
    // kamailio/kamailio issue #4203
    const json =
      '{ "time": "2025-04-04T15:51:44.448427533Z", "idx": 193, "pid": 200, "level": "DEBUG", "module": "core", "file": "core/receive.c", "line": 128, "function": "sip_check_fline", "message": "first line indicates a SIP reply" }';
    // kamailio/kamailio PR #2826 (CEE; printed there through json.tool, compacted back to one line)
    const cee =
      '{"time":"2021-08-27T23:38:46.639132214Z","proc":{"id":"56513"},"pri":"CRITICAL","subsys":"core","file":{"name":"core/cfg.y","line":3686},"native":{"function":"yyerror_at"},"msg":"parse error in config file foo/kamailio/kamailio/./misc/examples/ims/pcscf/kamailio.cfg, line 481, column 92: unknown command, missing loadmodule?\\n\\n","pname":"kamailio","appname":"kamailio","hostname":"some-host.example.org"}';
    for (const line of [json, cee]) {
      expect(kamailio.sniff(line)).toBe(0.9);
      expect(jsonLines.sniff(line)).toBeLessThan(kamailio.sniff(line));
    }
  });

  it('never throws', () => {
    for (const line of ['', '{', '[', 'ERROR:', '{"idx":', 'x'.repeat(70_000)])
      expect(() => kamailio.sniff(line)).not.toThrow();
  });
});

describe('kamailio timestamps and prefixes', () => {
  it('reads classic syslog without a year using the context year', () => {
    // kamailio/kamailio issue #1886
    const e = parseOne(
      'Mar 12 03:30:31 dev1-sbcaio-01 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
    );
    expect(e.ts).toBe(Date.UTC(2024, 2, 12, 3, 30, 31));
    expect(e.role).toBe('sbc');
    expect(e.input).toBe(3);
    expect(e.line).toBe(1);
    expect(e.signal).toBe('idle-close');
    expect(e.kind).toBe('ws-close');
  });

  it('reads journald short-precise microseconds and a custom log_name', () => {
    // kamailio/kamailio issue #2990
    const e = parseOne(
      'Dec 31 18:29:08.819765 eqx-sjc-ecv3 kamailio_edge[19096]: WARNING: websocket [ws_frame.c:810]: ws_keepalive(): forcibly closing connection',
      2021,
    );
    expect(e.ts).toBeCloseTo(Date.UTC(2021, 11, 31, 18, 29, 8) + 819.765, 3);
    expect(e.signal).toBe('idle-close');
  });

  it('reads the container RFC 3339 prefix in front of the stderr form', () => {
    // kamailio/kamailio issue #3864
    const e = parseOne(
      '2024-05-29T02:49:15.436088156Z 11(22) WARNING: <core> [core/msg_translator.c:3007]: via_builder(): TCP/TLS connection (id: 0) for WebSocket could not be found',
    );
    expect(e.ts).toBeCloseTo(Date.UTC(2024, 4, 29, 2, 49, 15) + 436.088156, 3);
    expect(e.signal).toBe('conn-reset');
    expect(e.keys.connId).toBeUndefined(); // id 0 names no connection
  });

  it('keeps stderr lines without any timestamp, with ts NaN', () => {
    // kamailio/kamailio PR #3348
    const e = parseOne(
      '23(24) ERROR: <core> [core/parser/parse_fline.c:271]: parse_first_line(): parse_first_line: bad message (offset: 22)',
    );
    expect(e.ts).toBeNaN();
    expect(e.kind).toBe('error');
    expect(e.text).toBe('parse_first_line: bad message (offset: 22)');
  });

  it('reads the stock log_prefix: Call-ID, CSeq method, source address and From user', () => {
    // Omid-Mohajerani/Learn-Kamailio issue #5
    const e = parseOne(
      'Nov  6 10:23:55 proxy1 kamailio[58634]: INFO: {1 1 REGISTER E3fNnAyni0_xvXIr3YHXrQ..} <script>: SIP request REGISTER received from 95.90.235.37:33534 via tcp - from sip:103@proxy1.omid.blog;transport=TCP to sip:103@proxy1.omid.blog;transport=TCP',
    );
    expect(e.ts).toBe(Date.UTC(2024, 10, 6, 10, 23, 55));
    expect(e.kind).toBe('sip-request');
    expect(e.keys).toMatchObject({
      callId: 'E3fNnAyni0_xvXIr3YHXrQ..',
      user: '103',
      peer: '95.90.235.37:33534',
      ip: '95.90.235.37',
    });
    expect(e.sip).toMatchObject({
      method: 'REGISTER',
      direction: 'received',
      cseq: 1,
      fromUser: '103',
      toUser: '103',
    });
  });

  it('reads a log_prefix with a route name and an ident without host or time', () => {
    // herlesupreeth/docker_open5gs PR #515
    const e = parseOne(
      'icscf[439986]: ERROR: {1 1 REGISTER c5cd8ca311198f6b@10.46.0.12 DEFAULT_ROUTE} <script>: ',
    );
    expect(e.keys.callId).toBe('c5cd8ca311198f6b@10.46.0.12');
    expect(e.sip?.method).toBe('REGISTER');
    expect(e.kind).toBe('error');
  });

  it('reads bracket prefixes as the Call-ID', () => {
    // kamailio/kamailio issue #4911
    const e = parseOne(
      'Sep 08 11:19:43 core-rbx-1 kamailio[237295]: INFO: [163102186989202691943@edge-a1.fake.net][M=OPTIONS-1] <script>: [KEEPALIVE]IP=10.0.0.1|RURI=sip:5.5.5.5|F=sip:edge-a1.fake.net:5069|T=sip:5.5.5.5',
    );
    expect(e.keys.callId).toBe('163102186989202691943@edge-a1.fake.net');
    expect(e.ts).toBe(Date.UTC(2024, 8, 8, 11, 19, 43));
  });

  it('skips lines of no diagnostic value but accounts for them', () => {
    const { events, outcomes } = parse([
      // Omid-Mohajerani/Learn-Kamailio issue #5
      'Nov  6 10:23:55 proxy1 kamailio[58605]: NOTICE: {1 3 REGISTER e5f4a465617525e4f7a159} <core> [core/receive.c:528]: receive_msg(): request-route executed in: 1514 usec',
      // kamailio/kamailio issue #4115 (DEBUG)
      'Jan 17 00:15:03.385850 kamailio[3519371]: DEBUG: [61e5f40c-acba-471f-94be-e66334eb217d] <core> [core/tcp_main.c:1746]: _tcpconn_find(): found connection by peer address (id: 1)',
      // /work/shared/peer-corpus/lnav-syslog.log: not ours
      'Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed',
      '',
    ]);
    expect(events).toHaveLength(0);
    expect(outcomes).toEqual(['skip', 'skip', 'unparsed', 'skip']);
  });
});

describe('kamailio signals', () => {
  it('pike: BLOCKing ip → sbc-flood-block with the IP', () => {
    // altanai/kamailioexamples Lua_load_balancer/README.md (sbc-formats.md §1.4)
    const e = parseOne(
      ' WARNING: pike [pike_funcs.c:151]: pike_check_req(): PIKE - BLOCKing ip 10.10.10.10, node=0x7f7e073f7dd0',
    );
    expect(e.signal).toBe('sbc-flood-block');
    expect(e.kind).toBe('rate-limit');
    expect(e.keys.ip).toBe('10.10.10.10');
  });

  it('pike: the stock ALERT xlog names method, user and source address', () => {
    // altanai/kamailioexamples Lua_load_balancer/README.md (sbc-formats.md §1.4)
    const e = parseOne(' ALERT: pike blocking REGISTER from sip:altanai@10.10.10.10 (IP:10.10.10.10:5060)');
    expect(e.signal).toBe('sbc-flood-block');
    expect(e.keys).toMatchObject({ ip: '10.10.10.10', peer: '10.10.10.10:5060', user: 'altanai' });
    expect(e.sip?.method).toBe('REGISTER');
  });

  it('pike: UNBLOCKing is not a new block', () => {
    // kamailio/kamailio issue #426
    const e = parseOne(
      '/usr/sbin/kamailio[3037]: WARNING: pike [pike_funcs.c:274]: refresh_node(): PIKE - UNBLOCKing node 0x7ff1a89c30b0',
    );
    expect(e.signal).toBeUndefined();
  });

  it('pipelimit README xlog → sbc-rate-limit', () => {
    // kamailio src/modules/pipelimit README xlog, as it prints through xlog (sbc-formats.md §1.5)
    const e = parseOne('ALERT: <script>: pl_check("one") drop');
    expect(e.signal).toBe('sbc-rate-limit');
  });

  it('a script line reporting 503 Limiting sent → sip-response with status, reason, Retry-After', () => {
    // the ratelimit README reply (sbc-formats.md §1.5) as a script xlog would report it
    const e = parseOne(
      'Nov  6 10:23:56 proxy1 kamailio[58634]: NOTICE: {1 2 REGISTER E3fNnAyni0_xvXIr3YHXrQ..} <script>: sending 503 Limiting to 95.90.235.37:33534 (Retry-After: 5)',
    );
    expect(e.kind).toBe('sip-response');
    expect(e.signal).toBe('sbc-rate-limit');
    expect(e.sip).toMatchObject({
      status: 503,
      reason: 'Limiting',
      direction: 'sent',
      retryAfter: 5,
      method: 'REGISTER',
    });
    expect(e.keys.callId).toBe('E3fNnAyni0_xvXIr3YHXrQ..');
  });

  it('replied 200 OK to REGISTER → registered; 403 Not relaying → acl-rejected', () => {
    const ok = parseOne('INFO: <script>: replied 200 OK to REGISTER from sip:agent-042@sbc.example.com');
    expect(ok.sip).toMatchObject({ status: 200, reason: 'OK', method: 'REGISTER', direction: 'sent' });
    expect(ok.signal).toBe('registered');
    expect(ok.keys.user).toBe('agent-042');
    // stock kamailio.cfg reply (sbc-formats.md §1.6)
    const denied = parseOne('NOTICE: <script>: sending 403 Not relaying');
    expect(denied.signal).toBe('acl-rejected');
  });

  it('a reply the SBC received is not one it sent', () => {
    const e = parseOne('INFO: <script>: SIP reply 503 Service Unavailable received from 10.0.0.9:5060');
    expect(e.sip).toMatchObject({ status: 503, direction: 'received' });
  });

  it('TCP capacity limits → sbc-capacity', () => {
    // format strings from kamailio src/core/tcp_main.c (sbc-formats.md §1.7)
    const perIp = parseOne(
      '2(3) CRITICAL: <core> [core/tcp_main.c:4142]: handle_new_connect(): hit the limit of connections per source IP (10.1.2.3) - rejecting',
    );
    expect(perIp.signal).toBe('sbc-capacity');
    expect(perIp.keys.ip).toBe('10.1.2.3');
    const max = parseOne(
      '2(3) ERROR: <core> [core/tcp_main.c:4140]: handle_new_connect(): maximum number of connections exceeded: 2048/2048',
    );
    expect(max.signal).toBe('sbc-capacity');
    const tls = parseOne(
      '2(3) ERROR: <core> [core/tcp_main.c:4150]: handle_new_connect(): maximum number of tls connections exceeded: 512/512',
    );
    expect(tls.signal).toBe('sbc-capacity');
  });

  it('keep-alive failure and concheck loss → idle-close', () => {
    // format string from kamailio src/modules/websocket/ws_frame.c (sbc-formats.md §1.7)
    const e = parseOne(
      'INFO: websocket [ws_frame.c:840]: ws_keepalive(): tcp connection has been lost (id: 17 wsc: 0x7f0a1c2d3e40)',
    );
    expect(e.signal).toBe('idle-close');
    expect(e.keys.connId).toBe('17');
  });

  it('joins "error reading" split over two lines → one conn-reset event with the remote peer', () => {
    // kamailio/kamailio issue #1132 (syslog: two records)
    const { events, outcomes } = parse([
      'sip /usr/local/sbin/kamailio[26299]: ERROR: <core> [tcp_read.c:292]: tcp_read_data(): error reading: Connection reset by peer (104) ([94.59.22.81]:38808 ->',
      'sip /usr/local/sbin/kamailio[26299]: ERROR: <core> [tcp_read.c:293]: tcp_read_data(): -> [78.46.112.139]:443)',
      'sip /usr/local/sbin/kamailio[26299]: ERROR: <core> [tcp_read.c:1321]: tcp_read_req(): ERROR: tcp_read_req: error reading - c: 0x7f489e51a098 r: 0x7f489e51a118',
    ]);
    expect(outcomes).toEqual(['event', 'part', 'event']);
    const resets = events.filter((e) => e.signal === 'conn-reset');
    expect(resets).toHaveLength(1);
    expect(resets[0].line).toBe(1);
    expect(resets[0].keys).toMatchObject({ peer: '94.59.22.81:38808', ip: '94.59.22.81' });
    expect(resets[0].text).toBe(
      'error reading: Connection reset by peer (104) ([94.59.22.81]:38808 -> [78.46.112.139]:443)',
    );
    expect(events.find((e) => e.line === 3)?.signal).toBeUndefined();
  });

  it('joins the halves across a line of another process', () => {
    const { events, outcomes } = parse([
      ' 5(1201) ERROR: <core> [core/tcp_read.c:267]: tcp_read_data(): error reading: Connection reset by peer (104) ([127.0.0.1]:51234 ->',
      ' 7(1203) INFO: <script>: SIP request REGISTER received from 127.0.0.1:51300 via ws - from sip:agent-7@example.com to sip:agent-7@example.com',
      ' 5(1201) ERROR: <core> [core/tcp_read.c:269]: tcp_read_data(): -> [127.0.0.1]:8080)',
    ]);
    expect(outcomes).toEqual(['event', 'event', 'part']);
    const reset = events.find((e) => e.signal === 'conn-reset');
    expect(reset?.keys.peer).toBe('127.0.0.1:51234');
    expect(reset?.text).toContain('-> [127.0.0.1]:8080)');
    expect(events.find((e) => e.kind === 'sip-request')?.keys.user).toBe('agent-7');
  });

  it('reads the stderr form where both halves share one line', () => {
    // kamailio/kamailio issue #4238
    const e = parseOne(
      '2025-05-02T05:39:54.151913300Z 84(131) ERROR: <core> [core/tcp_read.c:297]: tcp_read_data(): error reading: Connection timed out (110) ([49.69.41.98]:36121 ->84(131) ERROR: <core> [core/tcp_read.c:299]: tcp_read_data(): -> [10.185.18.67]:5260)',
    );
    expect(e.signal).toBe('conn-reset');
    expect(e.keys.peer).toBe('49.69.41.98:36121');
    expect(e.text).toBe(
      'error reading: Connection timed out (110) ([49.69.41.98]:36121 -> [10.185.18.67]:5260)',
    );
    expect(e.ts).toBeCloseTo(Date.UTC(2025, 4, 2, 5, 39, 54) + 151.9133, 3);
  });

  it('CRITICAL EOF on a connection pointer → conn-reset; EOF on an fd number is not', () => {
    // observed-on-real-servers.md: "a CRITICAL line about EOF on 0x..."
    const eof = parseOne(
      ' 9(1210) CRITICAL: <core> [core/tcp_main.c:3602]: handle_tcpconn_ev(): EOF on 0x7f3e610a3a70, FD 14 ([127.0.0.1]:51236 -> [127.0.0.1]:8080)',
    );
    expect(eof.signal).toBe('conn-reset');
    expect(eof.keys.peer).toBe('127.0.0.1:51236');
    // kamailio/kamailio issue #158 (a process died, not a client)
    const fd = parseOne(
      'May 13 03:40:32 Kamailio2 kamailio[7104]: CRITICAL: <core> [pass_fd.c:275]: receive_fd(): EOF on 23',
    );
    expect(fd.signal).toBeUndefined();
    expect(fd.kind).toBe('error');
  });

  it('WebSocket handshake refusals → client misconfiguration signals with the HTTP status', () => {
    // log strings from kamailio src/modules/websocket/ws_handshake.c (sbc-formats.md §1.7 table)
    const missing = parseOne(
      '12(1230) WARNING: websocket [ws_handshake.c:325]: ws_handle_handshake(): required headers not present',
    );
    expect(missing).toMatchObject({
      kind: 'ws-handshake',
      signal: 'missing-subprotocol',
      http: { status: 400, upgrade: true },
    });
    const version = parseOne(
      '12(1230) WARNING: websocket [ws_handshake.c:262]: ws_handle_handshake(): Unsupported protocol version 8',
    );
    expect(version).toMatchObject({ signal: 'bad-header', http: { status: 426 } });
    const dup = parseOne(
      '12(1230) WARNING: websocket [ws_handshake.c:240]: ws_handle_handshake(): Sec-WebSocket-Key found multiple times',
    );
    expect(dup).toMatchObject({ signal: 'bad-header', http: { status: 400 } });
  });

  it('example-config ACL xlogs → acl-rejected', () => {
    // misc/examples/webrtc/websocket.cfg xlog("L_WARN", "Bad host $hdr(Host)\n") (sbc-formats.md §1.7)
    const e = parseOne('WARNING: <script>: Bad host evil.example.org');
    expect(e).toMatchObject({ signal: 'acl-rejected', http: { status: 403 } });
  });

  it('websocket:closed event-route xlog → ws-close with the peer', () => {
    // misc/examples/webrtc/websocket.cfg xlog("L_INFO", "WebSocket connection from $si:$sp has closed\n")
    const e = parseOne(
      'Mar 12 03:30:31 sbc kamailio[6790]: INFO: <script>: WebSocket connection from 203.0.113.7:51544 has closed',
    );
    expect(e).toMatchObject({
      kind: 'ws-close',
      signal: 'ws-close',
      keys: { peer: '203.0.113.7:51544', ip: '203.0.113.7' },
    });
  });

  it('joins a line the reporter wrapped after the origin', () => {
    // kamailio/kamailio issue #47 (wrapped by the reporter)
    const { events, outcomes } = parse([
      '    Jan 18 18:10:26 ws0 /usr/sbin/kamailio[19701]: NOTICE: <script>:',
      '      http:217.120.x.x:55386: WS connection closed',
      'Jan 18 18:10:26 ws0 /usr/sbin/kamailio[19689]: WARNING: <core>',
      '      [msg_translator.c:2506]: via_builder(): TCP/TLS connection (id: 0) for WebSocket could not be found',
    ]);
    expect(outcomes).toEqual(['event', 'part', 'event', 'part']);
    expect(events.map((e) => e.signal)).toEqual(['ws-close', 'conn-reset']);
    expect(events.map((e) => e.line)).toEqual([1, 3]);
    expect(events[0].ts).toBe(Date.UTC(2024, 0, 18, 18, 10, 26));
  });

  it('408s → transaction-timeout', () => {
    // herlesupreeth/Kamailio_IMS_Config issue #6
    const local = parseOne(
      '85(3884) ERROR: <script>: request sent to sip:001010000000002@192.168.101.2:6700 completed with code: 408, Type 2',
    );
    expect(local).toMatchObject({ kind: 'timeout', signal: 'transaction-timeout', sip: { status: 408 } });
    expect(local.keys.user).toBe('001010000000002');
    // kamailio/kamailio issue #3707
    const upstream = parseOne(
      'ERROR: uac [uac_reg.c:1001]: uac_reg_tm_callback(): got sip response 408 while registering',
    );
    expect(upstream).toMatchObject({
      signal: 'transaction-timeout',
      sip: { status: 408, direction: 'received' },
    });
  });

  it('auth xlogs: failures → auth-failed, challenges → auth-challenge', () => {
    expect(
      parseOne('NOTICE: <script>: auth failed for sip:agent-3@example.com from 198.51.100.4:40000').signal,
    ).toBe('auth-failed');
    expect(parseOne('INFO: <script>: sending 401 Unauthorized to sip:agent-3@example.com').signal).toBe(
      'auth-challenge',
    );
    expect(parseOne('INFO: <script>: REGISTER from agent-3 rejected: 401 invalid credentials').signal).toBe(
      'auth-failed',
    );
  });
});

describe('kamailio JSON logging', () => {
  it('reads the JSON engine record with its time, level and message', () => {
    // kamailio/kamailio issue #4203
    const { events, outcomes } = parse([
      '{ "time": "2025-04-04T15:51:44.448427533Z", "idx": 193, "pid": 200, "level": "DEBUG", "module": "core", "file": "core/receive.c", "line": 128, "function": "sip_check_fline", "message": "first line indicates a SIP reply" }',
    ]);
    expect(outcomes).toEqual(['skip']); // DEBUG noise
    expect(events).toHaveLength(0);
  });

  it('takes the Call-ID from the callid field', () => {
    // the JSON engine format string (sbc-formats.md §1.1, src/core/dprint.c) carrying a ws_keepalive line
    const e = parseOne(
      '{ "time": "2024-05-29T02:49:15.436088156Z", "idx": 7, "pid": 22, "level": "WARNING", "module": "websocket", "file": "ws_frame.c", "line": 813, "function": "ws_keepalive", "callid": "a84b4c76e66710@pc33", "message": "forcibly closing connection" }',
    );
    expect(e.ts).toBeCloseTo(Date.UTC(2024, 4, 29, 2, 49, 15) + 436.088156, 3);
    expect(e.signal).toBe('idle-close');
    expect(e.keys.callId).toBe('a84b4c76e66710@pc33');
  });

  it('reads the CEE variant and trims the trailing newline of msg', () => {
    // kamailio/kamailio PR #2826 (compacted from json.tool output)
    const e = parseOne(
      '{"time":"2021-08-27T23:38:46.639132214Z","proc":{"id":"56513"},"pri":"CRITICAL","subsys":"core","file":{"name":"core/cfg.y","line":3686},"native":{"function":"yyerror_at"},"msg":"parse error in config file foo/kamailio/kamailio/./misc/examples/ims/pcscf/kamailio.cfg, line 481, column 92: unknown command, missing loadmodule?\\n\\n","pname":"kamailio","appname":"kamailio","hostname":"some-host.example.org"}',
    );
    expect(e.ts).toBeCloseTo(Date.UTC(2021, 7, 27, 23, 38, 46) + 639.132214, 3);
    expect(e.kind).toBe('error');
    expect(e.text?.endsWith('missing loadmodule?')).toBe(true);
  });

  it('reads a CEE script line that names the peer (observed-on-real-servers.md shape)', () => {
    const e = parseOne(
      '{"time":"2026-11-24T00:45:04.750824238Z","proc":{"id":"22484"},"pri":"INFO","subsys":"core","file":{"name":"core/tcp_main.c","line":5073},"native":{"function":"init_tcp"},"msg":"WebSocket connection from 127.0.0.1:40412 has closed\\n","pname":"kamailio","appname":"kamailio","hostname":"?"}',
    );
    expect(e.signal).toBe('ws-close');
    expect(e.keys.peer).toBe('127.0.0.1:40412');
  });

  it('does not crash on a truncated JSON record', () => {
    // kamailio/kamailio issue #4203 reports interleaved, truncated JSON lines
    const { outcomes } = parse([
      '{ "time": "2025-04-04T15:52:14.448279053Z", "idx": 195, "pid": 202, "level": "DEBUG", "module": "core", "file": "core/receive.c", "line": 128, "functio',
    ]);
    expect(outcomes).toEqual(['unparsed']);
  });
});

describe('kamailio sipdump', () => {
  // built on the sipdump_write.c template (sbc-formats.md §1.9) around the ratelimit README reply (§1.5)
  const block = [
    '====================',
    'tag: snd',
    'pid: 22',
    'process: 11',
    'time: 1716950955.436088',
    'date: Wed May 29 02:49:15 2024',
    'proto: ws ipv4',
    'srcip: 10.0.0.2',
    'srcport: 8080',
    'dstip: 203.0.113.7',
    'dstport: 51544',
    '~~~~~~~~~~~~~~~~~~~~',
    'SIP/2.0 503 Limiting',
    'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf',
    'From: <sip:agent-042@example.com>;tag=asdyka899',
    'To: <sip:agent-042@example.com>;tag=ab12',
    'Call-ID: asidkj3ss',
    'CSeq: 1 REGISTER',
    'Retry-After: 5',
    'Content-Length: 0',
    '',
    '||||||||||||||||||||',
  ];

  it('emits one sip-response with Call-ID, user, peer, direction and time', () => {
    const { events, outcomes } = parse(block);
    expect(outcomes[0]).toBe('event');
    expect(outcomes.slice(1).every((o) => o === 'part')).toBe(true);
    expect(events).toHaveLength(1);
    const e = events[0];
    expect(e.kind).toBe('sip-response');
    expect(e.ts).toBeCloseTo(1716950955436.088, 3);
    expect(e.keys).toMatchObject({ callId: 'asidkj3ss', user: 'agent-042', peer: '203.0.113.7:51544' });
    expect(e.sip).toMatchObject({
      status: 503,
      reason: 'Limiting',
      method: 'REGISTER',
      retryAfter: 5,
      direction: 'sent',
    });
    expect(e.signal).toBe('sbc-rate-limit');
    expect(e.line).toBe(1);
  });

  it('flushes a block left open at the end of input', () => {
    const { events } = parse(block.slice(0, -1));
    expect(events).toHaveLength(1);
  });

  it('sniffs the block separator', () => {
    expect(kamailio.sniff('====================')).toBeGreaterThan(0.5);
  });
});

describe('kamailio performance', () => {
  it('reads 64 KB lines, including adversarial ones, in linear time', () => {
    const spaces = ' '.repeat(64_000);
    const header = 'Mar 12 03:30:31 sbc kamailio[1]: INFO: <script>: ';
    const lines = [
      `${header}${'a:1 [x] (y) from sip: 1.2.3 '.repeat(2300)}`,
      `${header}from${spaces}x`,
      `${header}reply${spaces}x`,
      `${header}Retry-After${spaces}x`,
      `${header}error reading: ${'(['.repeat(32_000)}`,
      `${header}${'(): -> ['.repeat(7000)} ->`,
      `ERROR: ${'{'.repeat(65_000)}`,
      `${'['.repeat(65_000)}`,
      `${'a'.repeat(64_000)}[1]: ERROR: x`,
    ];
    const started = performance.now();
    parse(lines);
    for (const line of lines) kamailio.sniff(line);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('kamailio syslog-wrapped JSON', () => {
  it('reads the syslog JSON variant (no time/idx/pid) with the syslog time', () => {
    // the syslog JSON variant of src/core/dprint.c (sbc-formats.md §1.1) as rsyslog writes it
    const line =
      'May 29 02:49:15 sbc kamailio[22]: { "level": "WARNING", "module": "websocket", "file": "ws_frame.c", "line": 813, "function": "ws_keepalive", "message": "forcibly closing connection" }';
    expect(kamailio.sniff(line)).toBeGreaterThanOrEqual(0.8);
    const e = parseOne(line);
    expect(e.ts).toBe(Date.UTC(2024, 4, 29, 2, 49, 15));
    expect(e.signal).toBe('idle-close');
  });
});

describe('kamailio debug output', () => {
  it('ignores debug EOF lines (every ordinary close) but keeps blocked-source drops', () => {
    const { events, outcomes } = parse([
      // LM_DBG("EOF on %p, FD %d ([%s]:%u ->") + LM_DBG("-> [%s]:%u)\n"), kamailio src/core/tcp_read.c
      ' 5(1201) DEBUG: <core> [core/tcp_read.c:320]: tcp_read_data(): EOF on 0x7f3e610a3a70, FD 14 ([127.0.0.1]:51236 ->',
      ' 5(1201) DEBUG: <core> [core/tcp_read.c:322]: tcp_read_data(): -> [127.0.0.1]:8080)',
      // stock kamailio.cfg xdbg("request from blocked IP - $rm from $fu (IP:$si:$sp)\n") (sbc-formats.md §1.4)
      ' 5(1201) DEBUG: <script>: request from blocked IP - REGISTER from sip:agent-5@example.com (IP:198.51.100.20:40112)',
    ]);
    expect(outcomes).toEqual(['skip', 'part', 'event']);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      signal: 'sbc-flood-block',
      keys: { ip: '198.51.100.20', user: 'agent-5', peer: '198.51.100.20:40112' },
    });
  });
});

describe('kamailio: a registrar timeout answered with 504', () => {
  it('reads "completed with code: 408, replying 504" as a 504 the SBC sent, not a throttle', () => {
    // tm failure-route xlog shape of herlesupreeth/Kamailio_IMS_Config issue #6 (sbc-formats.md §1.8),
    // with the reply the script sends on (constructed)
    const events: LogEvent[] = [];
    const parser = kamailio.createParser(utcContext(2026));
    parser.push(
      'Nov 24 10:00:12 sbc-01 /usr/sbin/kamailio[10687]: ERROR: {1 2 REGISTER tq2rp9iomqi3ds8drr2ag7} <script>: request sent to sip:registrar-01.example.internal:5060 completed with code: 408, replying 504 Server Time-out',
      1,
      (e) => events.push(e),
    );
    expect(events[0].kind).toBe('sip-response');
    expect(events[0].sip?.status).toBe(504);
    expect(events[0].sip?.direction).toBe('sent');
    expect(events[0].keys.callId).toBe('tq2rp9iomqi3ds8drr2ag7');
  });
});

describe('kamailio start-up banner (real Kamailio 5.6.3, lab/)', () => {
  it('skips the stdout banner, alone or behind a container stamp, and nothing else', () => {
    // printed by a real `kamailio -DD -E` 5.6.3 (Debian bookworm) at start, captured by `npm run lab`
    const { events, outcomes } = parse([
      '2026-11-24T03:27:01.092900878Z loading modules under config path: /usr/lib/x86_64-linux-gnu/kamailio/modules',
      '2026-11-24T03:27:01.092951660Z Listening on ',
      '2026-11-24T03:27:01.092963378Z              tcp: 127.0.0.1 [127.0.0.1]:55505',
      '2026-11-24T03:27:01.093003417Z Aliases: ',
      '2026-11-24T03:27:01.093013671Z ',
      'Listening on ',
      '             udp: 127.0.0.1 [127.0.0.1]:5060',
      // not a banner: an unrelated line stays unparsed
      '2026-11-24T03:27:01.093013671Z Listening on port 8080 for metrics',
    ]);
    expect(events).toHaveLength(0);
    expect(outcomes).toEqual(['skip', 'skip', 'skip', 'skip', 'skip', 'skip', 'skip', 'unparsed']);
  });

  it('reads the lab config xlogs and a stamped TCP error whose halves share one line', () => {
    // lab/conf/kamailio.cfg xlogs and core/tcp_read.c, as `npm run lab` captured them from stderr
    const { events } = parse([
      '2026-11-24T03:38:02.585840820Z  7(26074) INFO: {1 2 REGISTER d1hm0cgf0aicfntjnoc4ph} <script>: REGISTER from sip:agent-001@lab.example.com (IP:127.0.0.1:38036) saved, sent 200 OK',
      '2026-11-24T03:38:02.661393554Z  9(26076) NOTICE: {1 2 REGISTER of60rm3rtn4n94tpj4jk44} <script>: authentication failed for sip:agent-004@lab.example.com from 127.0.0.1:38062 (rc -2), sending 401 again',
      '2026-11-24T03:36:50.780684570Z  8(24591) ERROR: <core> [core/tcp_read.c:269]: tcp_read_data(): error reading: Connection reset by peer (104) ([127.0.0.1]:60582 -> 8(24591) ERROR: <core> [core/tcp_read.c:273]: tcp_read_data(): -> [127.0.0.1]:48080)',
    ]);
    expect(events.map((e) => e.signal)).toEqual(['registered', 'auth-failed', 'conn-reset']);
    expect(events[0].keys).toMatchObject({ callId: 'd1hm0cgf0aicfntjnoc4ph', user: 'agent-001' });
    expect(events[1].keys).toMatchObject({ callId: 'of60rm3rtn4n94tpj4jk44', user: 'agent-004' });
    expect(events[2].keys.peer).toBe('127.0.0.1:60582');
    expect(events[2].ts).toBeCloseTo(Date.UTC(2026, 10, 24, 3, 36, 50) + 780.68457, 3);
  });
});

describe('kamailio CEE JSON from a real 5.6.3 (lab/, --log-engine=json:U)', () => {
  it('reads the first half of a split TCP error as conn-reset with the peer; the second half is a part', () => {
    // captured by `npm run lab -- idle-timeout --kamailio-log json` (HAProxy cut the idle tunnel)
    const { events, outcomes } = parse([
      '{"time":"2026-11-24T03:40:20.078275589Z","proc":{"id":"29830","tid":140117320828736},"pri":"ERROR","subsys":"core","file":{"name":"core/tcp_read.c","line":269},"native":{"function":"tcp_read_data"},"msg":"error reading: Connection reset by peer (104) ([127.0.0.1]:60288 ->","pname":"kamailio","appname":"kamailio","hostname":"vm"}',
      '{"time":"2026-11-24T03:40:20.078336125Z","proc":{"id":"29830","tid":140117320828736},"pri":"ERROR","subsys":"core","file":{"name":"core/tcp_read.c","line":273},"native":{"function":"tcp_read_data"},"msg":"-> [127.0.0.1]:55260)\\n","pname":"kamailio","appname":"kamailio","hostname":"vm"}',
    ]);
    expect(outcomes).toEqual(['event', 'part']);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      signal: 'conn-reset',
      keys: { peer: '127.0.0.1:60288', ip: '127.0.0.1' },
    });
    expect(events[0].ts).toBeCloseTo(Date.UTC(2026, 10, 24, 3, 40, 20) + 78.275589, 3);
  });

  it('reads an xlog record (subsys xlog, empty function) with the Call-ID in its text', () => {
    // lab/conf/kamailio.cfg ratelimit xlog, as the JSON engine wrote it (log_prefix is not applied there)
    const e = parseOne(
      '{"time":"2026-11-24T03:40:34.648560576Z","proc":{"id":"30123","tid":139926827796288},"pri":"WARNING","subsys":"xlog","file":{"name":"xlog.c","line":282},"native":{"function":""},"msg":"rl_check() failed for REGISTER from sip:agent-007@lab.example.com (IP:127.0.0.1:41054) call-id=ko50mbm0t8nmo4pqaedmfc, replying 503 Limiting\\n","pname":"kamailio","appname":"kamailio","hostname":"vm"}',
    );
    expect(e.signal).toBe('sbc-rate-limit');
    expect(e.sip).toMatchObject({ status: 503, reason: 'Limiting', direction: 'sent' });
    expect(e.keys).toMatchObject({
      callId: 'ko50mbm0t8nmo4pqaedmfc',
      user: 'agent-007',
      peer: '127.0.0.1:41054',
    });
  });
});
