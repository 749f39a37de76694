// A DNS server for the nginx specs: answers every A question with
// 127.0.0.1 (and every other type with no records), so that nginx's
// resolver directive can resolve test host names (nginx does not read
// /etc/hosts). Prints "listening <port>" once bound.
//   node dns_server.js [--port P] [--parent-pid PID]
'use strict';
const dgram = require('dgram');

const args = { port: '0' };
for (let i = 2; i < process.argv.length; i += 2) {
  const name = process.argv[i], value = process.argv[i + 1];
  if (name === '--port') args.port = value;
  else if (name === '--parent-pid') args.parentPid = value;
  else { process.stderr.write(`usage: dns_server.js [--port P] [--parent-pid PID] (unknown ${name})\n`); process.exit(2); }
}

const server = dgram.createSocket('udp4');
server.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  // The question: labels up to the zero byte, then type and class.
  let p = 12;
  while (p < msg.length && msg[p] !== 0) p += msg[p] + 1;
  if (p + 5 > msg.length) return;
  const qtype = msg.readUInt16BE(p + 1);
  const question = msg.subarray(12, p + 5);
  const answers = qtype === 1 ? 1 : 0;
  const head = Buffer.alloc(12);
  msg.copy(head, 0, 0, 2);           // id
  head.writeUInt16BE(0x8180, 2);     // response, recursion desired and available, no error
  head.writeUInt16BE(1, 4);          // one question
  head.writeUInt16BE(answers, 6);
  const parts = [head, question];
  if (answers) {
    const a = Buffer.alloc(16);
    a.writeUInt16BE(0xc00c, 0);      // the name: a pointer to the question's
    a.writeUInt16BE(1, 2);           // A
    a.writeUInt16BE(1, 4);           // IN
    a.writeUInt32BE(60, 6);          // TTL
    a.writeUInt16BE(4, 10);
    Buffer.from([127, 0, 0, 1]).copy(a, 12);
    parts.push(a);
  }
  server.send(Buffer.concat(parts), rinfo.port, rinfo.address);
});
server.bind(Number(args.port), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
require('./listen').exitWithParent(args);
