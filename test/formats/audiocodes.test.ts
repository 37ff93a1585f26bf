import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { audiocodes } from '../../src/formats/audiocodes.js';
import { utcContext } from '../../src/formats/time.js';
import { expectLinear, parseLines } from './run-parser.js';

const parse = (lines: readonly string[], year = 2026) => parseLines(audiocodes, lines, utcContext(year, 1));

// sipcapture/paStash issue #75 (sbc-formats.md §5.1): a v7.20 SBC's records as a collector got them
const PASTASH_INCOMING =
  '<133>[S=1718478] [SID=b9027c:24:198173]  (N  6891753) ---- Incoming SIP Message from 52.114.75.24:5061 to SIPInterface #2 (Teams) TLS TO(#134) SocketID(200) ---- #012SIP/2.0 200 OK #012FROM: <sip:10.160.111.51>;tag=1c808889852 #012TO: <sip:10.160.111.51> #012CSEQ: 1 OPTIONS #012CALL-ID: 143672392819122020124456@sbc.llspa.it #012VIA: SIP/2.0/TLS sbc.llspa.it:5061;branch=z9hG4bKac10785';
// same issue, in full there: a BYE from Microsoft Teams' SIP proxy
const PASTASH_BYE =
  '<133>[S=1718575] [SID=b9027c:24:198171]  (N  6892026) ---- Incoming SIP Message from 52.114.75.24:9024 to SIPInterface #2 (Teams) TLS TO(#138) SocketID(204) ---- #012BYE sip:sbc.llspa.it:5061;transport=tls SIP/2.0 #012FROM: Antonio Spirandelli<sip:+390522375550@sip.pstnhub.microsoft.com:5061;user=phone>;tag=51f0c299a9f8494eaf55fddf3590afd1 #012TO: <sip:+390522385011@sbc.llspa.it:5061>;user=phone;tag=633844cd2a52b012e6f0b21c4e950d1d #012CSEQ: 4 BYE #012CALL-ID: f8e538e4bf535025bfdd8c99080cd2ff #012MAX-FORWARDS: 70 #012VIA: SIP/2.0/TLS 52.114.75.24:5061;branch=z9hG4bK7df8648d #012CONTENT-LENGTH: 0 #012 [Time:19-12@12:44:57.101]';

describe('audiocodes: records sent by a v7.20 SBC (paStash issue #75)', () => {
  it('decodes #012 and reads the SIP message after "---- Incoming SIP Message"', () => {
    const { events, outcomes } = parse([PASTASH_INCOMING]);
    expect(outcomes).toEqual(['event']);
    expect(events).toHaveLength(1);
    const [e] = events;
    expect(e).toMatchObject({
      role: 'sbc',
      kind: 'sip-response',
      line: 1,
      sip: { direction: 'received', status: 200, method: 'OPTIONS', cseq: 1 },
      keys: { callId: '143672392819122020124456@sbc.llspa.it', connId: 'b9027c:24:198173' },
    });
    // a TLS trunk leg names no softphone: no user, no peer (a trunk's address is everybody's)
    expect(e.keys.user).toBeUndefined();
    expect(e.keys.peer).toBeUndefined();
    // no device time on the record and none before it
    expect(Number.isNaN(e.ts)).toBe(true);
  });

  it('dates a record by its device time [Time:DD-MM@HH:MM:SS.mmm]', () => {
    const { events } = parse([PASTASH_BYE]);
    expect(events).toHaveLength(1);
    expect(events[0].ts).toBe(Date.UTC(2026, 11, 19, 12, 44, 57, 101));
    expect(events[0].sip).toMatchObject({ method: 'BYE', direction: 'received' });
    expect(events[0].keys.callId).toBe('f8e538e4bf535025bfdd8c99080cd2ff');
  });

  it('keeps a header whose message comes in the next record of the SID, then joins them', () => {
    const { events, outcomes } = parse([
      // paStash issue #75 (abbreviated with "..." in sbc-formats.md): the header ends the record
      '<133>[S=1718476] [SID=b9027c:24:198173]  (N  6891745) (#20)gwSession[Allocated]. Handle:00007FCCBDDC17D8; Global session ID: 53e6936eefa8ca7a #012(N  6891752) ---- Outgoing SIP Message to 52.114.75.24:5061 from SIPInterface #2 (Teams) TLS TO(#134) SocketID(200) ---- #012 [Time:19-12@12:44:56.587]',
      '<133>[S=1718477] [SID=b9027c:24:198173] OPTIONS sip:52.114.75.24:5061;transport=tls SIP/2.0 #012FROM: <sip:10.160.111.51>;tag=1c808889852 #012TO: <sip:10.160.111.51> #012CSEQ: 1 OPTIONS #012CALL-ID: 143672392819122020124456@sbc.llspa.it #012 [Time:19-12@12:44:56.588]',
      PASTASH_INCOMING,
    ]);
    expect(outcomes).toEqual(['skip', 'event', 'event']);
    expect(events.map((e) => [e.line, e.kind, e.sip?.direction, e.sip?.method, e.sip?.status])).toEqual([
      [1, 'sip-request', 'sent', 'OPTIONS', undefined],
      [3, 'sip-response', 'received', 'OPTIONS', 200],
    ]);
    expect(events[0].ts).toBe(Date.UTC(2026, 11, 19, 12, 44, 56, 587));
    expect(events[0].keys.callId).toBe('143672392819122020124456@sbc.llspa.it');
    // the third record has no time: it keeps the last one (the second record's)
    expect(events[1].ts).toBe(Date.UTC(2026, 11, 19, 12, 44, 56, 588));
  });
});

describe('audiocodes: a WebRTC registration refused by Call Admission Control', () => {
  // shapes from sbc-formats.md §5.1 (paStash #75 record layout, #012 escapes, device time) and
  // §6.1 (JsSIP REGISTER over WSS); CAC answers 480 (AudioCodes manuals, Alternative Routing Reasons)
  const lines = [
    'Nov 24 10:00:01 10.20.0.5 [S=5501] [SID=6a1f0e:3:4410]  (N  88001) ---- Incoming SIP Message from 198.51.100.7:53122 to SIPInterface #0 (WebRTC) TLS TO(#12) SocketID(31) ---- #012REGISTER sip:sbc.example.com SIP/2.0 #012Via: SIP/2.0/WSS 2fc5gxpaqu5g.invalid;branch=z9hG4bK9414634 #012From: <sip:agent-042@sbc.example.com>;tag=o2vw9b44vq #012To: <sip:agent-042@sbc.example.com> #012Call-ID: fa4r06k8agc1w0gy14gcwb #012CSeq: 1 REGISTER #012Content-Length: 0 #012 #012 [Time:24-11@11:00:01.120]',
    'Nov 24 10:00:01 10.20.0.5 [S=5502] [SID=6a1f0e:3:4410]  (N  88002) Classification Succeeded - Source IP Group #1 (WebRTC-Users) #012(N  88003) Call Admission Control: request rejected, IP Group #1 (WebRTC-Users) registration rate limit exceeded #012 [Time:24-11@11:00:01.121]',
    'Nov 24 10:00:01 10.20.0.5 [S=5503] [SID=6a1f0e:3:4410]  (N  88004) ---- Outgoing SIP Message to 198.51.100.7:53122 from SIPInterface #0 (WebRTC) TLS TO(#12) SocketID(31) ---- #012SIP/2.0 480 Temporarily Unavailable #012Via: SIP/2.0/WSS 2fc5gxpaqu5g.invalid;branch=z9hG4bK9414634 #012From: <sip:agent-042@sbc.example.com>;tag=o2vw9b44vq #012To: <sip:agent-042@sbc.example.com>;tag=1c1234 #012Call-ID: fa4r06k8agc1w0gy14gcwb #012CSeq: 1 REGISTER #012Reason: SIP ;cause=805 ;text="IP Profile Call Limit" #012Content-Length: 0 #012 #012 [Time:24-11@11:00:01.122]',
  ];

  it('reads the request, the CAC statement and the 480 with keys a session can join', () => {
    const { events, outcomes } = parse(lines);
    expect(outcomes).toEqual(['event', 'event', 'event']);
    expect(events.map((e) => [e.line, e.kind, e.signal, e.sip?.status])).toEqual([
      [1, 'sip-request', undefined, undefined],
      [2, 'rate-limit', 'sbc-capacity', undefined],
      [3, 'sip-response', 'sbc-capacity', 480],
    ]);
    const [request, cac, refusal] = events;
    // the device logs CET, the collector stamps UTC: the device's milliseconds in the collector's zone
    expect(request.ts).toBe(Date.UTC(2026, 10, 24, 10, 0, 1, 120));
    expect(request.keys).toEqual({
      callId: 'fa4r06k8agc1w0gy14gcwb',
      user: 'agent-042',
      connId: '6a1f0e:3:4410',
      peer: '198.51.100.7:53122',
      ip: '198.51.100.7',
    });
    expect(cac.keys).toEqual({ connId: '6a1f0e:3:4410', user: 'agent-042' });
    expect(cac.text).toContain('registration rate limit exceeded');
    expect(refusal.sip).toMatchObject({
      direction: 'sent',
      method: 'REGISTER',
      reason: 'Temporarily Unavailable',
    });
    expect(refusal.keys.user).toBe('agent-042');
    expect(refusal.keys.peer).toBe('198.51.100.7:53122');
  });

  it('gives the far leg (Call-ID of its own) the softphone user of the SID', () => {
    const { events } = parse([
      lines[0],
      '[S=5504] [SID=6a1f0e:3:4410]  (N  88005) ---- Outgoing SIP Message to 10.0.5.10:5060 from SIPInterface #1 (Registrar) UDP TO(#1) ---- #012REGISTER sip:10.0.5.10 SIP/2.0 #012Via: SIP/2.0/UDP 10.0.5.2:5060;branch=z9hG4bKac2 #012From: <sip:agent-042@sbc.example.com>;tag=1c99 #012To: <sip:agent-042@sbc.example.com> #012Call-ID: 55617@10.0.5.2 #012CSeq: 1 REGISTER #012 #012 [Time:24-11@11:00:01.125]',
      // a reply on the far leg to the SBC's own INVITE names the callee in To: still the SID's user
      '[S=5505] [SID=6a1f0e:3:4410]  (N  88006) ---- Incoming SIP Message from 10.0.5.10:5060 to SIPInterface #1 (Registrar) UDP TO(#1) ---- #012SIP/2.0 404 Not Found #012Via: SIP/2.0/UDP 10.0.5.2:5060;branch=z9hG4bKac3 #012From: <sip:agent-042@sbc.example.com>;tag=1c99 #012To: <sip:agent-077@sbc.example.com>;tag=77 #012Call-ID: 55618@10.0.5.2 #012CSeq: 1 INVITE #012 #012 [Time:24-11@11:00:01.135]',
    ]);
    expect(events.map((e) => [e.keys.callId, e.keys.user, e.keys.connId, e.keys.peer])).toEqual([
      ['fa4r06k8agc1w0gy14gcwb', 'agent-042', '6a1f0e:3:4410', '198.51.100.7:53122'],
      ['55617@10.0.5.2', 'agent-042', '6a1f0e:3:4410', undefined],
      ['55618@10.0.5.2', 'agent-042', '6a1f0e:3:4410', undefined],
    ]);
  });

  it('takes the softphone user from To when the SBC sends the request over WSS', () => {
    const { events } = parse([
      '[S=7001] [SID=6a1f0e:3:4500]  (N  99001) ---- Outgoing SIP Message to 198.51.100.9:40001 from SIPInterface #0 (WebRTC) TLS TO(#14) ---- #012OPTIONS sip:k2not68h@k5v7qdhee21i.invalid;transport=ws SIP/2.0 #012Via: SIP/2.0/WSS sbc.example.com:443;branch=z9hG4bKac77 #012From: <sip:ping@sbc.example.com>;tag=9 #012To: <sip:agent-007@sbc.example.com> #012Call-ID: 9911@sbc #012CSeq: 1 OPTIONS #012 #012 [Time:24-11@11:00:05.000]',
    ]);
    expect(events[0].keys).toMatchObject({ user: 'agent-007', peer: '198.51.100.9:40001' });
  });
});

describe('audiocodes: records a collector wrote over several lines', () => {
  it('reads "(N …)" statements and the decoded SIP message up to the next record (paStash #87 layout)', () => {
    // sipcapture/paStash issue #87: statements on their own lines, the device time closes the record
    const { events, outcomes } = parse([
      '<133>[S=22477524] [SID=813dd0:13:976099]  (N 22948446) (#1017)gwSession[Allocated]. Handle:00007FC14531FE20; Global session ID: 21b37b75df1f4ea8 ',
      '(N 22948447) Condition Table matched on condition Index 0 ',
      '(N 22948448) Classification Succeeded - Source IP Group #2 (Teams) ',
      '(N 22948449) ---- Incoming SIP Message from 198.51.100.20:61001 to SIPInterface #0 (WebRTC) TLS TO(#3) ----',
      'SIP/2.0 503 Service Unavailable',
      'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1',
      'From: <sip:agent-100@sbc.example.com>;tag=a',
      'To: <sip:agent-100@sbc.example.com>;tag=b',
      'Call-ID: reg-100@abc.invalid',
      'CSeq: 3 REGISTER',
      'Retry-After: 30',
      '',
      ' [Time:04-03@13:56:45.633]',
      'stray text after a closed record',
    ]);
    expect(outcomes).toEqual([
      'skip',
      'part',
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
      'unparsed',
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      line: 4,
      ts: Date.UTC(2026, 2, 4, 13, 56, 45, 633),
      signal: 'sbc-rate-limit',
      sip: { status: 503, retryAfter: 30, method: 'REGISTER', direction: 'received' },
      keys: { user: 'agent-100', callId: 'reg-100@abc.invalid', connId: '813dd0:13:976099' },
    });
  });
});

describe('audiocodes: manual prefixes, board events and CDRs', () => {
  it('reads the device prefix time and skips statements that say nothing', () => {
    // AudioCodes Mediant 4000 SBC user manual, Syslog Message Format (manualslib p.765)
    const { events, outcomes } = parse([
      '14:32:52.028: 10.33.8.70: NOTICE: [S=9369] [SID=2ed1c8:96:5] (lgr_psbrdex)(274) recv <-- OFF_HOOK Ch:4',
      '14:32:52.062: 10.33.8.70: WARNING: [S=9399] [BID=2ed1c8:96] invalid Physical index',
      '18:38:14. 83 : 10.33.45.72 : NOTICE: [S=236][SID:2ed1c8:96:5] (lgr_flow)(620) #0:DIGIT_EV [File: Line:-1]',
      '18:38:14.958 : 10.33.45.72 : NOTICE: [S=301][SID:1034099026] (lgr_flow)(625) #0:DIGIT_EV [File: Line:-1]',
    ]);
    expect(events).toEqual([]);
    expect(outcomes).toEqual(['skip', 'skip', 'skip', 'skip']);
  });

  it('reads the syslog server’s view (receive time, device, facility.severity) of v7.4 manuals', () => {
    // AudioCodes user's manual (v7.4 family), "Syslog Message Format": the first two lines verbatim;
    // the third is the same shape with a SIP message (made up)
    const { events, outcomes } = parse([
      '10:44:11.299 10.15.77.55 local0.notice [S=511941] [SID=736502:31:12079] (N 483455) ReleaseAddress. IPv4IF=1 IPv6IF=-1 Port=7500 [Time:10-09@09:42:56.938]',
      '20:05:36.055  10.15.7.96  local0.notice [S=16] [BID=736502:31] Activity Log: Successful user login at 10.15.7.96:80. User: Admin. Session: Web (10.13.2.19) [Time:12-03@17:00:58.781] [1108]',
      '10:44:12.001 10.15.77.55 local0.notice [S=511942] [SID=736502:31:12080] (N 483460) ---- Outgoing SIP Message to 198.51.100.7:53122 from SIPInterface #0 (WebRTC) TLS TO(#12) ---- #012SIP/2.0 503 Service Unavailable #012VIA: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1 #012FROM: <sip:agent-042@sbc.example.com>;tag=a #012TO: <sip:agent-042@sbc.example.com>;tag=b #012CALL-ID: reg-42@abc.invalid #012CSEQ: 3 REGISTER #012 #012 [Time:10-09@09:42:57.640] [1109]',
    ]);
    expect(outcomes).toEqual(['skip', 'skip', 'event']);
    expect(events).toHaveLength(1);
    expect(events[0].ts).toBe(Date.UTC(2026, 8, 10, 9, 42, 57, 640));
    expect(events[0]).toMatchObject({ signal: 'sbc-overload', sip: { status: 503, direction: 'sent' } });
  });

  it('dates a device time of day by the collector’s date', () => {
    const { events } = parse([
      'Nov 24 23:59:59 10.33.8.70 00:00:00.250 : 10.33.8.70 : NOTICE: [S=9] [SID=2ed1c8:96:7] (N 12) Call Admission Control: SRD #0 maximum concurrent calls reached, call rejected',
    ]);
    expect(events).toHaveLength(1);
    expect(events[0].ts).toBe(Date.UTC(2026, 10, 25, 0, 0, 0, 250));
    expect(events[0].signal).toBe('sbc-capacity');
  });

  it('maps CDR columns from the header record and reads NO_RESOURCES and 408 terminations', () => {
    // column names: AudioCodes Mediant 500L manual p.919 and paStash issue #240 (CDR over syslog)
    const { events, outcomes } = parse([
      '[S=40] |SBCReportType |EPTyp |SIPCallId |SessionId |Orig |SourceIp |SourcePort |DestIp |DestPort |TransportType |SrcURI |SrcURIBeforeMap |DstURI |DstURIBeforeMap |Duration|TrmSd|TrmReason |TrmReasonCategory|SetupTime |ConnectTime |ReleaseTime |RedirectReason |RedirectURINum |RedirectURINumBeforeMap |TxSigIPDiffServ|IPGroup (name) |SrdId (name) |SIPInterfaceId (name) |ProxySetId (name) |IpProfileId (name) |MediaRealmId (name) |DirectMedia|SIPTrmReason|SIPTerm',
      'Desc |Caller |Callee',
      '[S=41] |CALL_END |SBC |inv-7@abc.invalid |6a1f0e:3:4501|RMT |198.51.100.7 |53122 |10.0.5.10 |5060 |WSS |agent-042@sbc.example.com |agent-042@sbc.example.com |1000@sbc.example.com |1000@sbc.example.com |0 |LCL |RELEASE_BECAUSE_NO_RESOURCES |NO_RESOURCES |10:00:01.000 UTC Nov 24 2026 | |10:00:01.010 UTC Nov 24 2026 |-1 | | |46 |1 (WebRTC-Users) |0 (DefaultSRD) |0 (WebRTC) |-1 |1 (WebRTC) |0 (MR) |no |480 |"IP Profile Call Limit" |agent-042 |1000',
      '[S=42] |CALL_END |SBC |inv-8@abc.invalid |6a1f0e:3:4502|RMT |198.51.100.8 |53000 |10.0.5.10 |5060 |WSS |agent-043@sbc.example.com |agent-043@sbc.example.com |1000@sbc.example.com |1000@sbc.example.com |63 |RMT |GWAPP_NORMAL_CALL_CLEAR |NORMAL_CALL_CLEAR |10:00:02.000 UTC Nov 24 2026 |10:00:03.000 UTC Nov 24 2026 |10:01:06.000 UTC Nov 24 2026 |-1 | | |46 |1 (WebRTC-Users) |0 (DefaultSRD) |0 (WebRTC) |-1 |1 (WebRTC) |0 (MR) |no |BYE | |agent-043 |1000',
      '[S=43] |CALL_END |SBC |inv-9@abc.invalid |6a1f0e:3:4503|RMT |198.51.100.9 |53010 |10.0.5.10 |5060 |WSS |agent-044@sbc.example.com |agent-044@sbc.example.com |1000@sbc.example.com |1000@sbc.example.com |0 |LCL |GWAPP_RECOVERY_ON_TIMER_EXPIRE |GENERAL_FAILED |10:00:04.000 UTC Nov 24 2026 | |10:00:36.000 UTC Nov 24 2026 |-1 | | |46 |1 (WebRTC-Users) |0 (DefaultSRD) |0 (WebRTC) |-1 |1 (WebRTC) |0 (MR) |no |408 |"Request Timeout" |agent-044 |1000',
    ]);
    expect(outcomes).toEqual(['skip', 'part', 'event', 'skip', 'event']);
    expect(events.map((e) => [e.line, e.kind, e.signal, e.keys.callId, e.keys.user, e.keys.connId])).toEqual([
      [3, 'rate-limit', 'sbc-capacity', 'inv-7@abc.invalid', 'agent-042', '6a1f0e:3:4501'],
      [5, 'timeout', 'transaction-timeout', 'inv-9@abc.invalid', 'agent-044', '6a1f0e:3:4503'],
    ]);
  });
});

describe('audiocodes detection', () => {
  const OTHERS = FORMATS.filter((f) => f !== audiocodes);

  it('sniffs its samples high and nobody else’s', () => {
    for (const s of audiocodes.samples) expect(audiocodes.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.9);
    expect(
      detectFormat(
        audiocodes.samples.map((s) => s.line),
        FORMATS,
      ).format?.name,
    ).toBe('audiocodes');
    for (const f of OTHERS) {
      for (const s of f.samples) expect(audiocodes.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
    }
  });

  it('claims a collector-prefixed file and a decoded multi-line file', () => {
    const collected = [
      'Nov 24 10:00:01 10.20.0.5 [S=5501] [SID=6a1f0e:3:4410]  (N  88001) ---- Incoming SIP Message from 198.51.100.7:53122 to SIPInterface #0 (WebRTC) TLS TO(#12) ---- #012REGISTER sip:sbc.example.com SIP/2.0 #012 [Time:24-11@11:00:01.120]',
      'Nov 24 10:00:01 10.20.0.5 [S=5502] [SID=6a1f0e:3:4410]  (N  88002) Classification Succeeded - Source IP Group #1 (WebRTC-Users) [Time:24-11@11:00:01.121]',
    ];
    expect(detectFormat(collected, FORMATS).format?.name).toBe('audiocodes');
    const decoded = [
      '<133>[S=22477524] [SID=813dd0:13:976099]  (N 22948446) (#1017)gwSession[Allocated]. Handle:00007FC14531FE20',
      '(N 22948447) Condition Table matched on condition Index 0 ',
      '(N 22948448) Classification Succeeded - Source IP Group #2 (Teams) ',
      ' [Time:04-03@13:56:45.633]',
    ];
    expect(detectFormat(decoded, FORMATS).format?.name).toBe('audiocodes');
    const manual = [
      '14:32:52.028: 10.33.8.70: NOTICE: [S=9369] [SID=2ed1c8:96:5] (lgr_psbrdex)(274) recv <-- OFF_HOOK Ch:4',
      '10:44:11.299 10.15.77.55 local0.notice [S=511941] [SID=736502:31:12079] (N 483455) ReleaseAddress. IPv4IF=1 IPv6IF=-1 Port=7500 [Time:10-09@09:42:56.938]',
    ];
    expect(detectFormat(manual, FORMATS).format?.name).toBe('audiocodes');
  });

  it('does not read a passed admission check as a refusal', () => {
    const { events } = parse([
      '[S=1] [SID=2ed1c8:96:9]  (N 1) CAC limit check passed for IP Group #1 (WebRTC-Users) [Time:24-11@10:00:00.000]',
    ]);
    expect(events).toEqual([]);
  });

  it('stays linear on long adversarial lines', () => {
    const attacks = [
      '[S=1] [SID=a:b:c] ' + '(N 1) '.repeat(10_000),
      '<133>[S=1] [SID=a:b:c] (N 1) ---- Incoming SIP Message from ' + '1.'.repeat(30_000),
      '12:00:00.000 : ' + '1'.repeat(60_000),
      '[S=1] ' + '#012'.repeat(15_000),
      '[S=1] |CALL_END ' + '|'.repeat(60_000),
      '[S=1] x [Time:' + '1'.repeat(60_000),
    ];
    expectLinear(audiocodes, attacks, 300);
  });
});
