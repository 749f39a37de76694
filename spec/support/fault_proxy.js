#!/usr/bin/env node
// fault_proxy.js: a tiny HTTP proxy for fault injection in tests. No dependencies.
//
// Usage:
//   node spec/support/fault_proxy.js --target http://127.0.0.1:PORT [--mode MODE]
//        [--count N] [--port P] [--parent-pid PID]
//
// It listens on 127.0.0.1 (port 0 = any free port, the default) and prints
// exactly one line to stdout when ready:
//   listening <port>
// Point the client at http://127.0.0.1:<port>; requests are sent on to
// --target with the same method, path, headers and body.
//
// Modes (--mode, default pass):
//   pass           forward untouched.
//   crc32          forward, but answer with a wrong x-amz-crc32 header (the real
//                  value + 1 mod 2^32; added if the target sent none).
//   hang           read the request, never answer (the socket stays open).
//   reset          read the request, then reset the connection (TCP RST).
//   delay=<ms>     wait <ms> milliseconds, then forward.
//   status=<code>  answer <code> without forwarding, with a DynamoDB-shaped body
//                  {"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"injected"}
//                  and a correct x-amz-crc32.
//   echo           answer 200 without forwarding (no --target needed); the body is
//                  JSON {"method","url","headers" (raw name/value list),"bodyLength","body"}
//                  describing the request as received, with a correct x-amz-crc32
//                  and the header "x-echo-dup" sent twice ("one", "two") plus
//                  "x-echo-padded" with surrounding blanks, for header parsing tests.
//
// --count N      apply the mode to the first N requests only, pass the rest
//                (e.g. "fail twice, then succeed" for retry tests).
// --parent-pid   exit when that process is gone, so a crashed test run leaves
//                no proxy behind. Tests should still kill the proxy by PID.
//
// Example (from Lua; `echo $$; exec` makes the first line the proxy's PID):
//   local f = io.popen("echo $$; exec node spec/support/fault_proxy.js " ..
//                      "--target http://127.0.0.1:8000 --mode status=503 --parent-pid $PPID")
//   local pid = f:read("l"); local port = f:read("l"):match("^listening (%d+)$")
//   ... os.execute("kill " .. pid); f:close()
'use strict';

const http = require('http');

function usage(msg) {
  process.stderr.write(`fault_proxy: ${msg}\n`);
  process.exit(2);
}

const args = { mode: 'pass', port: '0', count: null, target: null, parentPid: null };
for (let i = 2; i < process.argv.length; i += 2) {
  const flag = process.argv[i];
  const value = process.argv[i + 1];
  if (value === undefined) usage(`missing value for ${flag}`);
  if (flag === '--target') args.target = value;
  else if (flag === '--mode') args.mode = value;
  else if (flag === '--port') args.port = value;
  else if (flag === '--count') args.count = value;
  else if (flag === '--parent-pid') args.parentPid = value;
  else usage(`unknown flag ${flag}`);
}

let mode = args.mode;
let param = null;
const m = /^(delay|status)=(\d+)$/.exec(mode);
if (m) {
  mode = m[1];
  param = Number(m[2]);
  if (mode === 'status' && (param < 100 || param > 599)) usage(`bad status ${param}`);
} else if (!['pass', 'crc32', 'hang', 'reset', 'echo'].includes(mode)) {
  usage(`unknown mode ${args.mode}`);
}
// Modes that forward need a target; so does --count, which passes the rest.
const needsTarget = ['pass', 'crc32', 'delay'].includes(mode) || args.count !== null;
let target = null;
if (args.target) {
  try { target = new URL(args.target); } catch (e) { usage(`bad --target ${args.target}`); }
  if (target.protocol !== 'http:') usage('--target must be an http:// URL');
} else if (needsTarget) {
  usage('--target is required');
}

let faultsLeft = args.count === null ? Infinity : Number(args.count);
if (!(faultsLeft >= 0)) usage(`bad count ${args.count}`);

// CRC32, zlib/IEEE polynomial: what DynamoDB sends in x-amz-crc32.
const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Hop-by-hop headers describe one connection, not the message.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding',
  'te', 'trailer', 'upgrade', 'content-length']);

function forward(req, body, res, corruptCrc) {
  const up = http.request({
    host: target.hostname, port: target.port || 80,
    method: req.method, path: req.url, headers: req.headers,
  }, (ures) => {
    const chunks = [];
    ures.on('data', (c) => chunks.push(c));
    ures.on('end', () => {
      const rbody = Buffer.concat(chunks);
      const headers = {};
      for (const [k, v] of Object.entries(ures.headers)) if (!HOP.has(k)) headers[k] = v;
      if (corruptCrc) {
        const real = headers['x-amz-crc32'] !== undefined ? Number(headers['x-amz-crc32']) : crc32(rbody);
        headers['x-amz-crc32'] = String((real + 1) >>> 0);
      }
      headers['content-length'] = String(rbody.length);
      res.writeHead(ures.statusCode, headers);
      res.end(rbody);
    });
  });
  up.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`fault_proxy: target error: ${err.message}\n`);
  });
  up.end(body);
}

function injectStatus(res) {
  const body = Buffer.from(JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'injected',
  }));
  res.writeHead(param, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': 'fault-proxy',
    'x-amz-crc32': String(crc32(body)),
    'content-length': String(body.length),
  });
  res.end(body);
}

function echo(req, body, res) {
  const out = Buffer.from(JSON.stringify({
    method: req.method, url: req.url, headers: req.rawHeaders,
    bodyLength: body.length, body: body.toString('latin1'),
  }));
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-echo-dup', ['one', 'two']);
  res.setHeader('x-echo-padded', ' \t padded value \t ');
  res.setHeader('x-amz-crc32', String(crc32(out)));
  res.setHeader('content-length', String(out.length));
  res.end(req.method === 'HEAD' ? undefined : out);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let fault = mode;
    if (faultsLeft > 0) faultsLeft--;
    else fault = 'pass';
    switch (fault) {
      case 'pass': return forward(req, body, res, false);
      case 'crc32': return forward(req, body, res, true);
      case 'delay': return setTimeout(() => forward(req, body, res, false), param);
      case 'status': return injectStatus(res);
      case 'echo': return echo(req, body, res);
      case 'hang': return undefined; // keep the socket open, say nothing
      case 'reset': {
        const s = req.socket;
        return s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
      }
      default: return undefined;
    }
  });
});
// Hanging requests must not be cut off by node's own timeouts.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 60000;

server.listen(Number(args.port), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

if (args.parentPid) {
  const pid = Number(args.parentPid);
  setInterval(() => {
    try { process.kill(pid, 0); } catch (e) { if (e.code === 'ESRCH') process.exit(0); }
  }, 500).unref();
}
process.on('SIGTERM', () => process.exit(0));
