import { it } from 'vitest';
import { jsonLines } from '../../src/formats/json-lines.js';
import { kamailio } from '../../src/formats/kamailio.js';
import { utcContext } from '../../src/formats/time.js';
import type { LogEvent } from '../../src/model.js';

const lines = [
  ...jsonLines.samples.map((s) => s.line),
  '{"type":"Metric","data":{"type":"gauge","contains":"default","tainted":null,"thresholds":[],"submetrics":null},"metric":"vus"}',
  '{"level":"error","msg":"WebSocket connection failed. Code: 1006","source":"console","time":"2024-05-29T02:49:16Z","user":"agent-042"}',
  '{"ts":1716950956123,"event":"ws_close","closeCode":1006,"reason":"Connection dropped by remote peer.","vu":17,"url":"wss://sbc.example.com/ws"}',
  '{"t":1716950956,"msg":"handshake","status":429,"url":"wss://sbc.example.com/ws?user=agent-007","requestId":"abc123"}',
  '{"time":"2024-05-29T02:49:16.5Z","message":"REGISTER answered","callId":"a84b4c76e66710","status":403,"method":"REGISTER","role":"sbc","details":{"aor":"sip:agent-9@example.com","peer":"10.0.0.5:40312"}}',
  '{"topic":"webrtc-sdk","level":"INFO","message":"{\\"clientTime\\":\\"2024-05-29T02:49:17.000Z\\",\\"clientId\\":\\"c1\\",\\"message\\":\\"streaming-client reconnecting in 5000 ms\\",\\"details\\":{\\"user\\":\\"agent-3\\"}}"}',
  '{"time": "broken',
  '[1,2,3]',
  'plain text',
  '',
  '{ "time": "2025-04-04T15:51:44.448427533Z", "idx": 193, "pid": 200, "level": "DEBUG", "module": "core", "file": "core/receive.c", "line": 128, "function": "sip_check_fline", "message": "first line indicates a SIP reply" }',
];
it('scratch', () => {
  const p = jsonLines.createParser(utcContext(2024));
  const out: LogEvent[] = [];
  lines.forEach((l, i) => {
    const o = p.push(l, i + 1, (e) => out.push(e));
    console.log(jsonLines.sniff(l).toFixed(2), kamailio.sniff(l).toFixed(2), o, l.slice(0, 90));
  });
  p.end((e) => out.push(e));
  for (const e of out) console.log(JSON.stringify({ ...e, raw: undefined }));
});
