import { it } from 'vitest';
import { kamailio } from '../../src/formats/kamailio.js';
import { utcContext } from '../../src/formats/time.js';
import type { LogEvent } from '../../src/model.js';

const lines = [
  ...kamailio.samples.map((s) => s.line),
  'sip /usr/local/sbin/kamailio[26299]: ERROR: <core> [tcp_read.c:292]: tcp_read_data(): error reading: Connection reset by peer (104) ([94.59.22.81]:38808 ->',
  'sip /usr/local/sbin/kamailio[26299]: ERROR: <core> [tcp_read.c:293]: tcp_read_data(): -> [78.46.112.139]:443)',
  'sip /usr/local/sbin/kamailio[26299]: ERROR: <core> [tcp_read.c:1321]: tcp_read_req(): ERROR: tcp_read_req: error reading - c: 0x7f489e51a098 r: 0x7f489e51a118',
  '2025-05-02T05:39:54.151913300Z 84(131) ERROR: <core> [core/tcp_read.c:297]: tcp_read_data(): error reading: Connection timed out (110) ([49.69.41.98]:36121 ->84(131) ERROR: <core> [core/tcp_read.c:299]: tcp_read_data(): -> [10.185.18.67]:5260)',
  '    Jan 18 18:10:26 ws0 /usr/sbin/kamailio[19701]: NOTICE: <script>:',
  '      http:217.120.x.x:55386: WS connection closed',
  'Jan 18 18:10:26 ws0 /usr/sbin/kamailio[19689]: WARNING: <core>',
  '      [msg_translator.c:2506]: via_builder(): TCP/TLS connection (id: 0) for WebSocket could not be found',
  '{"time":"2021-08-27T23:38:46.639132214Z","proc":{"id":"56513"},"pri":"CRITICAL","subsys":"core","file":{"name":"core/cfg.y","line":3686},"native":{"function":"yyerror_at"},"msg":"parse error in config file foo/kamailio/kamailio/./misc/examples/ims/pcscf/kamailio.cfg, line 481, column 92: unknown command, missing loadmodule?\\n\\n","pname":"kamailio","appname":"kamailio","hostname":"some-host.example.org"}',
  'Jul 27 08:46:33 Tim-Stacks-iMac automount[14085]: lookup(file): lookup for foobar failed',
  ' /usr/sbin/opensips[27201]: ERROR:proto_ws:ws_parse_req_handshake: Upgrade header not present!',
];
it('scratch', () => {
  const p = kamailio.createParser(utcContext(2024));
  const out: LogEvent[] = [];
  lines.forEach((l, i) => {
    const o = p.push(l, i + 1, (e) => out.push(e));
    console.log(kamailio.sniff(l).toFixed(2), o, l.slice(0, 90));
  });
  p.end((e) => out.push(e));
  for (const e of out) console.log(JSON.stringify({ ...e, raw: undefined }));
});
