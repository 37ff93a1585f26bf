import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { ribbon } from '../../src/formats/ribbon.js';
import { utcContext } from '../../src/formats/time.js';
import { expectLinear, parseLines } from './run-parser.js';

const parse = (lines: readonly string[], year = 2026) => parseLines(ribbon, lines, utcContext(year, 2));

// Ribbon publicdoc SBXDOC120 "Notes and Examples on Call Trace Log Message" (sbc-formats.md §5.3);
// the INVITE's headers after its request line are not in the reference and are made up here
const DOC_TRACE = [
  '242 12162016 083615.736943:1.02.00.38938.Info .SIPSG:CALL:FILTER=Cisco_Test_Call GCID=0x00000DDB: 14443. TraceCallLogger invoked - From pstProperties: PeerIP/port: 10.100.100.10/5000 LocalIP/port:10.139.160.141/5000 ulMsgType-0x40000004',
  '1787 12162016 083615.737177:1.01.00.38939.MAJOR .SIPSG:FILTER=Cisco_Test_Call GCID=0x00000DDB: EXTRA INFO: Ingress: received msg for CallId:804ee913ccfe61c2aa581a72a000 gcid:0xDDB from IP/port:10.100.100.10/5000, Local IP/port:10.139.160.141/5000',
  'RAW PDU:',
  'INVITE sip:+8005555555@abc.company.com:5000 SIP/2.0',
  'Via: SIP/2.0/UDP 10.100.100.10:5000;branch=z9hG4bK2d4790',
  'From: <sip:+4085551212@10.100.100.10:5000>;tag=1928301774',
  'To: <sip:+8005555555@abc.company.com:5000>',
  'Call-ID: 804ee913ccfe61c2aa581a72a000',
  'CSeq: 101 INVITE',
  'Content-Type: application/sdp',
  '',
  'v=0',
  'o=- 1 1 IN IP4 10.100.100.10',
];

describe('ribbon: the documented call trace', () => {
  it('reads the SIP message after RAW PDU: with the entry’s time, GCID and Call-ID', () => {
    const { events, outcomes } = parse(DOC_TRACE);
    expect(outcomes).toEqual([
      'skip',
      'part',
      'part',
      'event',
      'part',
      'part',
      'part',
      'part',
      'part',
      'part',
      'part',
      'part',
      'part',
    ]);
    expect(events).toHaveLength(1);
    const [e] = events;
    expect(e).toMatchObject({
      line: 2,
      role: 'sbc',
      kind: 'sip-request',
      sip: { method: 'INVITE', direction: 'received', cseq: 101 },
      keys: { callId: '804ee913ccfe61c2aa581a72a000', connId: 'gcid:ddb', user: '+4085551212' },
    });
    expect(e.ts).toBeCloseTo(Date.UTC(2016, 11, 16, 8, 36, 15, 737) + 0.177, 3);
    // a UDP trunk leg: its address is not a softphone's
    expect(e.keys.peer).toBeUndefined();
  });

  it('skips DBG lines that only look alarming (RCB not found, licence count far from the limit)', () => {
    // Ribbon "SBC Troubleshooting How to Analyze DBG" (sbc-formats.md §5.3)
    const { events, outcomes } = parse([
      '150 09202018 165651.572939:1.01.00.38374.Info .SIPFE: *FindRegistrationBlock: RCB not found by sourceIP, sourceIP:172.16.101.182 port:57208 zone:2',
      '114 09202018 165651.573462:1.01.00.38383.Info .NRM: *Licensed Session Count = 150000. Current Active Count = 1 TRM: Trunk Resource Manager',
    ]);
    expect(events).toEqual([]);
    expect(outcomes).toEqual(['skip', 'skip']);
  });
});

describe('ribbon: a WebRTC registration refused by rate policing', () => {
  // entry layout from sbc-formats.md §5.3; REGISTER over WSS as JsSIP sends it (§6.1); Register
  // Rate Policing answers 503 with a Retry-After (Ribbon cause-code docs, §5.3)
  const lines = [
    '1290 11242026 100001.120400:1.01.00.51001.Info .SIPSG:GCID=0x0001A2F3: Ingress: received msg for CallId:fa4r06k8agc1w0gy14gcwb gcid:0x1A2F3 from IP/port:198.51.100.7/53122, Local IP/port:203.0.113.20/443, SMM:no',
    'RAW PDU:',
    'REGISTER sip:sbc.example.com SIP/2.0',
    'Via: SIP/2.0/WSS 2fc5gxpaqu5g.invalid;branch=z9hG4bK9414634',
    'From: <sip:agent-042@sbc.example.com>;tag=o2vw9b44vq',
    'To: <sip:agent-042@sbc.example.com>',
    'Call-ID: fa4r06k8agc1w0gy14gcwb',
    'CSeq: 1 REGISTER',
    'Content-Length: 0',
    '',
    '198 11242026 100001.120950:1.01.00.51002.MINOR .SIPSG:GCID=0x0001A2F3: Register Rate Policing: REGISTER from 198.51.100.7/53122 rejected, zone WEBRTC_ZONE',
    '1102 11242026 100001.121300:1.01.00.51003.Info .SIPSG:GCID=0x0001A2F3: Egress: sent msg for CallId:fa4r06k8agc1w0gy14gcwb gcid:0x1A2F3 to IP/port:198.51.100.7/53122, Local IP/port:203.0.113.20/443, SMM:no',
    'RAW PDU:',
    'SIP/2.0 503 Service Unavailable',
    'Via: SIP/2.0/WSS 2fc5gxpaqu5g.invalid;branch=z9hG4bK9414634',
    'From: <sip:agent-042@sbc.example.com>;tag=o2vw9b44vq',
    'To: <sip:agent-042@sbc.example.com>;tag=gK0a1b2c3d',
    'Call-ID: fa4r06k8agc1w0gy14gcwb',
    'CSeq: 1 REGISTER',
    'Retry-After: 27',
    'Content-Length: 0',
    '',
  ];

  it('reads the request, the policing line and the 503 with joinable keys', () => {
    const { events, outcomes } = parse(lines);
    expect(outcomes.filter((o) => o === 'event')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
    expect(events.map((e) => [e.line, e.kind, e.signal, e.sip?.status])).toEqual([
      [1, 'sip-request', undefined, undefined],
      [11, 'rate-limit', 'sbc-rate-limit', undefined],
      [12, 'sip-response', 'sbc-rate-limit', 503],
    ]);
    const [request, policing, refusal] = events;
    expect(request.ts).toBeCloseTo(Date.UTC(2026, 10, 24, 10, 0, 1, 120) + 0.4, 3);
    expect(request.keys).toEqual({
      callId: 'fa4r06k8agc1w0gy14gcwb',
      user: 'agent-042',
      connId: 'gcid:1a2f3',
      peer: '198.51.100.7:53122',
      ip: '198.51.100.7',
    });
    expect(policing.keys).toEqual({ connId: 'gcid:1a2f3', user: 'agent-042' });
    expect(refusal.sip).toMatchObject({ direction: 'sent', retryAfter: 27, method: 'REGISTER' });
    expect(refusal.keys).toMatchObject({ user: 'agent-042', peer: '198.51.100.7:53122' });
  });

  it('reads the remote-syslog form with #012 (paStash filter_app_sonuslog.js)', () => {
    const { events, outcomes } = parse([
      '<147> 1 2026-11-24T10:00:01.121300+00:00 sbc01 SIPSG: Egress: sent msg for CallId:fa4r06k8agc1w0gy14gcwb gcid:0x1A2F3 to IP/port:198.51.100.7/53122, Local IP/port:203.0.113.20/443, SMM:no RAW PDU:#012SIP/2.0 503 Service Unavailable#012Via: SIP/2.0/WSS 2fc5gxpaqu5g.invalid;branch=z9hG4bK9414634#012From: <sip:agent-042@sbc.example.com>;tag=o2vw9b44vq#012To: <sip:agent-042@sbc.example.com>;tag=x#012Call-ID: fa4r06k8agc1w0gy14gcwb#012CSeq: 1 REGISTER#012Retry-After: 27#012#012',
    ]);
    expect(outcomes).toEqual(['event']);
    expect(events).toHaveLength(1);
    expect(events[0].ts).toBeCloseTo(Date.UTC(2026, 10, 24, 10, 0, 1, 121) + 0.3, 3);
    expect(events[0]).toMatchObject({
      sip: { status: 503, retryAfter: 27, direction: 'sent' },
      keys: { user: 'agent-042', connId: 'gcid:1a2f3', peer: '198.51.100.7:53122' },
      signal: 'sbc-rate-limit',
    });
  });

  it('joins the chunks of an entry over 1800 bytes (same time and sequence)', () => {
    const { events } = parse([
      '1800 11242026 100002.000001:1.01.00.51010.Info .SIPSG:GCID=0x0001A2F4: Egress: sent msg for CallId:c-9@x.invalid gcid:0x1A2F4 to IP/port:198.51.100.8/50000, Local IP/port:203.0.113.20/443, SMM:no',
      'RAW PDU:',
      'SIP/2.0 503 Service Unavailable',
      'Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK1',
      '60 11242026 100002.000001:1.01.00.51010.Info .SIPSG:From: <sip:agent-043@sbc.example.com>;tag=1',
      'To: <sip:agent-043@sbc.example.com>;tag=2',
      'Call-ID: c-9@x.invalid',
      'CSeq: 2 REGISTER',
      '',
    ]);
    expect(events).toHaveLength(1);
    expect(events[0].keys.user).toBe('agent-043');
    expect(events[0].sip?.cseq).toBe(2);
  });

  it('names overload and licence exhaustion', () => {
    const { events } = parse([
      '176 11242026 100003.000000:1.01.00.51020.MAJOR .SIPSG: Congestion Policing: Adaptive Overload Control rejected INVITE for CallId:inv-1@x.invalid, responding 503',
      '114 11242026 100003.100000:1.01.00.51021.Info .NRM: *Licensed Session Count = 200. Current Active Count = 200 TRM: Trunk Resource Manager',
    ]);
    expect(events.map((e) => [e.signal, e.keys.callId])).toEqual([
      ['sbc-overload', 'inv-1@x.invalid'],
      ['sbc-capacity', undefined],
    ]);
  });
});

describe('ribbon detection', () => {
  const OTHERS = FORMATS.filter((f) => f !== ribbon);

  it('sniffs its samples high and nobody else’s', () => {
    for (const s of ribbon.samples) expect(ribbon.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.9);
    expect(
      detectFormat(
        ribbon.samples.map((s) => s.line),
        FORMATS,
      ).format?.name,
    ).toBe('ribbon');
    expect(detectFormat(DOC_TRACE, FORMATS).format?.name).toBe('ribbon');
    for (const f of OTHERS) {
      for (const s of f.samples) expect(ribbon.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
    }
  });

  it('stays linear on long adversarial lines', () => {
    const attacks = [
      '1 11242026 100001.120400:1.01.00.1.Info .SIPSG: received msg for CallId:' + 'a'.repeat(60_000),
      '1 11242026 100001.120400:1.01.00.1.Info .SIPSG: ' + 'received msg for CallId:x '.repeat(2_000),
      '1 11242026 100001.120400:' + '1.'.repeat(30_000),
      '<147> 1 2026-11-24T10:00:01Z msg for CallId:' + '#012'.repeat(15_000),
      'RAW PDU:' + '#012'.repeat(15_000),
    ];
    expectLinear(ribbon, attacks, 300);
  });
});
