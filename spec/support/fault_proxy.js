#!/usr/bin/env node
// fault_proxy.js: a tiny HTTP(S) proxy for fault injection in tests. No dependencies.
//
// Usage:
//   node spec/support/fault_proxy.js --target http://127.0.0.1:PORT [--mode SPEC]
//        [--count N] [--after N] [--rate P] [--seed S] [--retry-after MS]
//        [--port P] [--tls-cert FILE --tls-key FILE] [--parent-pid PID]
//
// It listens on 127.0.0.1 (port 0 = any free port, the default) and prints
// exactly one line to stdout when ready:
//   listening <port>
// Point the client at http://127.0.0.1:<port> (https:// with --tls-cert);
// requests are sent on to --target (plain HTTP) with the same method, path,
// headers and body.
//
// Modes. SPEC is one mode, or several separated by commas, each optionally
// with a probability: KIND[=PARAM][@RATE], e.g.
//   --mode reset                       every request is reset
//   --mode throttle@0.2,unprocessed@0.2 --seed 7
//                                      20% throttled, 20% with unprocessed items
// Each request draws one number u in [0, 1); the modes take consecutive
// slices of [0, 1), in the order given, each as wide as its rate (@RATE, or
// --rate, default 1); the mode whose slice holds u is applied, and the
// request passes when u is past them all. So the rates must add up to at
// most 1, and each is the exact share of requests that mode gets.
//
//   pass             forward untouched.
//   crc32            forward, but answer with a wrong x-amz-crc32 header (the real
//                    value + 1 mod 2^32; added if the target sent none).
//   corrupt          forward, but change one byte of the answer's body (the case of
//                    its last letter, so JSON stays JSON) and keep the real
//                    x-amz-crc32 (computed if the target sent none): only the
//                    CRC32 check can notice.
//   truncate[=F]     forward; answer the target's status and headers, with the full
//                    Content-Length, then only the first F (default 0.5, at least
//                    one byte short) of the body, and close the connection.
//   reset_after      forward, read the target's answer (the request has been
//                    applied), then reset the client's connection (TCP RST).
//   unprocessed[=F]  BatchWriteItem: forward only part of RequestItems (a fraction F,
//                    default 0.5, of the writes is withheld, at least one, chosen
//                    with the PRNG) and answer the target's response with the
//                    withheld writes added to UnprocessedItems (table -> list of
//                    {PutRequest|DeleteRequest}); BatchGetItem likewise with Keys
//                    and UnprocessedKeys. When all are withheld the target is not
//                    asked. Content-Length and x-amz-crc32 are those of the new
//                    body. Any other request passes (and is not counted a fault).
//   hang             read the request, never answer (the socket stays open).
//   reset            read the request, then reset the connection (TCP RST): the
//                    target never sees it.
//   delay=<ms>       wait <ms> milliseconds, then forward.
//   status=<code>[:<Type>]
//                    answer <code> without forwarding, with a DynamoDB-shaped body
//                    {"__type":"com.amazonaws.dynamodb.v20120810#<Type>","message":"injected"}
//                    (Type defaults to ThrottlingException, whatever the code) and a
//                    correct x-amz-crc32.
//   throttle         status=400:ThrottlingException
//   internal         status=500:InternalServerError
//   unavailable      status=503:ServiceUnavailable
//   echo             answer 200 (or the status in the request's x-echo-status) without
//                    forwarding (no --target needed); the body is JSON {"method","url",
//                    "headers" (raw name/value list),"bodyLength","body"} describing the
//                    request as received, with a correct x-amz-crc32 and the header
//                    "x-echo-dup" sent twice ("one", "two") plus "x-echo-padded" with
//                    surrounding blanks, for header parsing tests. Request headers
//                    shape the answer, for HTTP framing tests:
//                      x-echo-chunked: 1   the body in three chunks (no Content-Length)
//                      x-echo-close: 1     "Connection: close", then the connection closes
//                      x-echo-drop: 1      the connection closes after the answer, unannounced
//                      x-echo-raw: <b64>   these bytes instead of an answer, then close
//
// --count N        inject at most N faults, then pass everything (with a single
//                  mode at rate 1: "fail N times, then succeed", for retry tests).
// --after N        pass the first N requests untouched, then start injecting.
// --rate P         the rate of modes given without @RATE (default 1).
// --seed S         seed of the PRNG (mulberry32) that draws u and picks the
//                  withheld writes: the same seed and requests give the same faults.
//                  Without it the seed is random (GET /_faults shows it).
// --retry-after MS add "x-amz-retry-after: MS" to the injected error answers
//                  (status, throttle, internal, unavailable).
// --tls-cert FILE, --tls-key FILE
//                  serve HTTPS with this PEM certificate and key (the target stays HTTP).
// --parent-pid     exit when that process is gone, so a crashed test run leaves
//                  no proxy behind. Tests should still kill the proxy by PID.
//
// Statistics: GET /_faults on the proxy answers (without forwarding) JSON
//   {"seed":S,"requests":N,"passed":N,"faults":{"<kind>":N,...},
//    "unprocessed_items":N,"unprocessed_keys":N,"targets":{"<Operation>":N,...}}
// requests counts every request proxied (not /_faults), faults the faults
// applied by kind, unprocessed_* the writes and keys withheld, targets the
// requests by X-Amz-Target operation.
//
// Example (from Lua; `echo $$; exec` makes the first line the proxy's PID):
//   local f = io.popen("echo $$; exec node spec/support/fault_proxy.js " ..
//                      "--target http://127.0.0.1:8000 --mode status=503 --parent-pid $PPID")
//   local pid = f:read("l"); local port = f:read("l"):match("^listening (%d+)$")
//   ... os.execute("kill " .. pid); f:close()
// spec/support/proxy.lua does this for the specs.
'use strict';

const http = require('http');
const https = require('https');
const fs = require('fs');

function usage(msg) {
  process.stderr.write(`fault_proxy: ${msg}\n`);
  process.exit(2);
}

// ---- arguments -------------------------------------------------------------

const FLAGS = {
  '--target': 'target', '--mode': 'mode', '--port': 'port', '--count': 'count',
  '--after': 'after', '--rate': 'rate', '--seed': 'seed', '--retry-after': 'retryAfter',
  '--tls-cert': 'tlsCert', '--tls-key': 'tlsKey', '--parent-pid': 'parentPid',
};
const args = { mode: 'pass', port: '0' };
for (let i = 2; i < process.argv.length; i += 2) {
  const flag = process.argv[i];
  const value = process.argv[i + 1];
  if (!FLAGS[flag]) usage(`unknown flag ${flag}`);
  if (value === undefined) usage(`missing value for ${flag}`);
  args[FLAGS[flag]] = value;
}

function count(name, text) {
  if (text === undefined) return null;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) usage(`bad ${name} ${text}`);
  return n;
}

function fraction(name, text, lo, hiInclusive) {
  const f = Number(text);
  if (text === '' || !(f > lo && f <= 1) || (!hiInclusive && f === 1)) usage(`bad ${name} ${text}`);
  return f;
}

// Canned error answers: status and __type.
const CANNED = {
  throttle: [400, 'ThrottlingException'],
  internal: [500, 'InternalServerError'],
  unavailable: [503, 'ServiceUnavailable'],
};
// Kinds that send the request on to the target.
const FORWARDS = new Set(['pass', 'crc32', 'corrupt', 'truncate', 'reset_after', 'unprocessed', 'delay']);
const KINDS = new Set([...FORWARDS, 'hang', 'reset', 'status', 'echo', ...Object.keys(CANNED)]);

const defaultRate = args.rate === undefined ? 1 : Number(args.rate);
if (!(defaultRate >= 0 && defaultRate <= 1) || args.rate === '') usage(`bad rate ${args.rate}`);

// One mode: { kind, param, rate, name }.
function parseMode(text) {
  const m = /^([a-z_0-9]+)(?:=([^@]*))?(?:@(.*))?$/.exec(text);
  if (!m || !KINDS.has(m[1])) usage(`unknown mode ${text}`);
  const mode = { kind: m[1], param: null, name: m[1] };
  const p = m[2];
  switch (mode.kind) {
    case 'delay':
      if (p === undefined || !/^\d+$/.test(p)) usage(`bad mode ${text} (delay=<ms> expected)`);
      mode.param = Number(p);
      break;
    case 'status': {
      const s = p === undefined ? null : /^(\d+)(?::([A-Za-z]+))?$/.exec(p);
      if (!s || Number(s[1]) < 100 || Number(s[1]) > 599) usage(`bad status ${p}`);
      mode.param = [Number(s[1]), s[2] || 'ThrottlingException'];
      break;
    }
    case 'truncate':
      mode.param = p === undefined ? 0.5 : fraction('truncate fraction', p, 0, false);
      break;
    case 'unprocessed':
      mode.param = p === undefined ? 0.5 : fraction('unprocessed fraction', p, 0, true);
      break;
    default:
      if (p !== undefined) usage(`mode ${mode.kind} takes no parameter`);
      if (CANNED[mode.kind]) {
        mode.param = CANNED[mode.kind];
        mode.kind = 'status';
      }
  }
  if (m[3] === undefined) {
    mode.rate = defaultRate;
  } else {
    mode.rate = Number(m[3]);
    if (m[3] === '' || !(mode.rate >= 0 && mode.rate <= 1)) usage(`bad rate in ${text}`);
  }
  return mode;
}

const modes = args.mode.split(',').map(parseMode);
const totalRate = modes.reduce((sum, md) => sum + md.rate, 0);
if (totalRate > 1 + 1e-9) usage(`the rates of --mode ${args.mode} add up to ${totalRate}, more than 1`);

const faultLimit = count('count', args.count);
const after = count('after', args.after) || 0;
const retryAfter = count('retry-after', args.retryAfter);

// A target is needed unless no request can ever be forwarded.
const needsTarget = modes.some((md) => FORWARDS.has(md.kind)) || faultLimit !== null || after > 0
  || totalRate < 1;
let target = null;
if (args.target) {
  try { target = new URL(args.target); } catch (e) { usage(`bad --target ${args.target}`); }
  if (target.protocol !== 'http:') usage('--target must be an http:// URL');
} else if (needsTarget) {
  usage('--target is required');
}
if ((args.tlsCert === undefined) !== (args.tlsKey === undefined)) usage('--tls-cert and --tls-key go together');

// ---- PRNG and statistics -----------------------------------------------------

// mulberry32: a small, fast 32-bit PRNG; plenty for picking faults.
const seed = args.seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : count('seed', args.seed) >>> 0;
let prngState = seed;
function random() {
  prngState = (prngState + 0x6d2b79f5) >>> 0;
  let t = prngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const stats = {
  seed, requests: 0, passed: 0, faults: {}, unprocessed_items: 0, unprocessed_keys: 0, targets: {},
};
let faultsInjected = 0;
function counted(name) {
  stats.faults[name] = (stats.faults[name] || 0) + 1;
  faultsInjected++;
}

// ---- CRC32 and the wire ------------------------------------------------------

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

// The request's operation: "BatchWriteItem" for DynamoDB_20120810.BatchWriteItem.
function operation(req) {
  const t = req.headers['x-amz-target'];
  return typeof t === 'string' ? t.slice(t.lastIndexOf('.') + 1) : null;
}

// Sends the request (with `body`, maybe rewritten) to the target; calls
// done(status, headers, body) with the answer's end-to-end headers, or
// answers 502 itself when the target cannot be reached.
function forward(req, body, res, done) {
  const headers = { ...req.headers, 'content-length': String(body.length) };
  delete headers['transfer-encoding']; // the body is sent whole, with its length
  const up = http.request({
    host: target.hostname, port: target.port || 80,
    method: req.method, path: req.url, headers,
  }, (ures) => {
    const chunks = [];
    ures.on('data', (c) => chunks.push(c));
    ures.on('end', () => {
      const rheaders = {};
      for (const [k, v] of Object.entries(ures.headers)) if (!HOP.has(k)) rheaders[k] = v;
      done(ures.statusCode, rheaders, Buffer.concat(chunks));
    });
  });
  up.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`fault_proxy: target error: ${err.message}\n`);
  });
  up.end(body);
}

function answer(res, status, headers, body) {
  headers['content-length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

function resetSocket(socket) {
  try {
    if (socket.resetAndDestroy) return socket.resetAndDestroy();
  } catch (e) { /* a TLS socket may refuse: fall through */ }
  return socket.destroy();
}

function injectStatus(res, [status, type]) {
  const body = Buffer.from(JSON.stringify({
    __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'injected',
  }));
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': 'fault-proxy',
    'x-amz-crc32': String(crc32(body)),
  };
  if (retryAfter !== null) headers['x-amz-retry-after'] = String(retryAfter);
  answer(res, status, headers, body);
}

function echo(req, body, res) {
  if ('x-echo-raw' in req.headers) {
    req.socket.end(Buffer.from(req.headers['x-echo-raw'], 'base64'));
    return;
  }
  const out = Buffer.from(JSON.stringify({
    method: req.method, url: req.url, headers: req.rawHeaders,
    bodyLength: body.length, body: body.toString('latin1'),
  }));
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-echo-dup', ['one', 'two']);
  res.setHeader('x-echo-padded', ' \t padded value \t ');
  res.setHeader('x-amz-crc32', String(crc32(out)));
  res.statusCode = Number(req.headers['x-echo-status'] || 200);
  if (req.headers['x-echo-close']) res.setHeader('connection', 'close');
  if (req.headers['x-echo-drop']) res.on('finish', () => req.socket.destroy());
  if (req.headers['x-echo-chunked'] && req.method !== 'HEAD') {
    const third = Math.ceil(out.length / 3);
    res.write(out.subarray(0, third));
    res.write(out.subarray(third, 2 * third));
    res.end(out.subarray(2 * third));
    return;
  }
  res.setHeader('content-length', String(out.length));
  res.end(req.method === 'HEAD' ? undefined : out);
}

// Changes the case of the body's last ASCII letter (or, with none, flips
// the last byte's low bit).
function corruptBody(body) {
  const out = Buffer.from(body);
  for (let i = out.length - 1; i >= 0; i--) {
    const b = out[i];
    if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) {
      out[i] = b ^ 0x20;
      return out;
    }
  }
  if (out.length > 0) out[out.length - 1] ^= 1;
  return out;
}

// Status line, headers (with the full Content-Length) and part of the
// body, written straight to the socket, which is then closed.
function truncated(req, status, headers, body, f) {
  const keep = Math.max(0, Math.min(Math.floor(body.length * f), body.length - 1));
  let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] || 'Unknown'}\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    for (const one of Array.isArray(v) ? v : [v]) head += `${k}: ${one}\r\n`;
  }
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  const socket = req.socket;
  socket.write(head);
  socket.end(body.subarray(0, keep));
}

// ---- unprocessed items and keys -------------------------------------------

// k distinct indexes of 0..n-1 chosen with the PRNG, as a Set.
function pick(n, k) {
  const idx = [...Array(n).keys()];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return new Set(idx.slice(0, k));
}

function howMany(n, f) {
  return Math.min(n, Math.max(1, Math.round(n * f)));
}

// Splits a BatchWriteItem or BatchGetItem request. Returns null when the
// body is not such a request, else { send, held, n } where send is the
// request to forward (null when all is held) and held the withheld part
// in the shape of UnprocessedItems / UnprocessedKeys.
function split(op, body, f) {
  let req;
  try { req = JSON.parse(body.toString('utf8')); } catch (e) { return null; }
  const items = req && req.RequestItems;
  if (!items || typeof items !== 'object') return null;
  const all = []; // [table, entry]
  for (const [t, v] of Object.entries(items)) {
    const list = op === 'BatchWriteItem' ? v : v && v.Keys;
    if (!Array.isArray(list)) return null;
    for (const e of list) all.push([t, e]);
  }
  if (all.length === 0) return null;
  const chosen = pick(all.length, howMany(all.length, f));
  const keep = {};
  const held = {};
  all.forEach(([t, e], i) => {
    const to = chosen.has(i) ? held : keep;
    if (op === 'BatchWriteItem') {
      (to[t] = to[t] || []).push(e);
    } else {
      if (!to[t]) to[t] = { ...items[t], Keys: [] };
      to[t].Keys.push(e);
    }
  });
  const send = Object.keys(keep).length === 0 ? null : { ...req, RequestItems: keep };
  return { send, held, n: chosen.size, tables: Object.keys(items) };
}

// The answer with the withheld part merged in.
function merge(op, answerBody, parts) {
  const res = answerBody === null ? {} : JSON.parse(answerBody.toString('utf8'));
  if (op === 'BatchWriteItem') {
    const u = res.UnprocessedItems = res.UnprocessedItems || {};
    for (const [t, list] of Object.entries(parts.held)) u[t] = (u[t] || []).concat(list);
  } else {
    const u = res.UnprocessedKeys = res.UnprocessedKeys || {};
    for (const [t, spec] of Object.entries(parts.held)) {
      u[t] = u[t] ? { ...u[t], Keys: u[t].Keys.concat(spec.Keys) } : spec;
    }
    res.Responses = res.Responses || {};
    for (const t of parts.tables) res.Responses[t] = res.Responses[t] || [];
  }
  return Buffer.from(JSON.stringify(res));
}

function unprocessed(req, body, res, op, f) {
  const parts = split(op, body, f);
  if (!parts) return forward(req, body, res, (s, h, b) => answer(res, s, h, b));
  const done = (status, headers, rbody) => {
    let out;
    if (status === 200) {
      try { out = merge(op, rbody, parts); } catch (e) { out = null; }
    }
    if (!out) return answer(res, status, headers, rbody); // an error: pass it on
    counted('unprocessed');
    if (op === 'BatchWriteItem') stats.unprocessed_items += parts.n;
    else stats.unprocessed_keys += parts.n;
    headers['x-amz-crc32'] = String(crc32(out));
    return answer(res, 200, headers, out);
  };
  if (parts.send === null) {
    return done(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fault-proxy' }, null);
  }
  return forward(req, Buffer.from(JSON.stringify(parts.send)), res, done);
}

// ---- the server --------------------------------------------------------------

// The mode for the next request, or null to pass it.
function choose(req) {
  stats.requests++;
  if (stats.requests <= after) return null;
  if (faultLimit !== null && faultsInjected >= faultLimit) return null;
  const u = random();
  let edge = 0;
  for (const md of modes) {
    edge += md.rate;
    if (u < edge) {
      if (md.kind === 'pass') return null;
      if (md.kind === 'unprocessed' && !['BatchWriteItem', 'BatchGetItem'].includes(operation(req))) return null;
      return md;
    }
  }
  return null;
}

function handle(req, body, res) {
  const op = operation(req);
  if (op) stats.targets[op] = (stats.targets[op] || 0) + 1;
  const md = choose(req);
  if (!md) {
    stats.passed++;
    return forward(req, body, res, (s, h, b) => answer(res, s, h, b));
  }
  if (md.kind !== 'unprocessed') counted(md.name); // counted when it applies
  switch (md.kind) {
    case 'crc32':
      return forward(req, body, res, (s, h, b) => {
        const real = h['x-amz-crc32'] !== undefined ? Number(h['x-amz-crc32']) : crc32(b);
        h['x-amz-crc32'] = String((real + 1) >>> 0);
        answer(res, s, h, b);
      });
    case 'corrupt':
      return forward(req, body, res, (s, h, b) => {
        if (h['x-amz-crc32'] === undefined) h['x-amz-crc32'] = String(crc32(b));
        answer(res, s, h, corruptBody(b));
      });
    case 'truncate':
      return forward(req, body, res, (s, h, b) => truncated(req, s, h, b, md.param));
    case 'reset_after':
      return forward(req, body, res, () => resetSocket(req.socket));
    case 'unprocessed': return unprocessed(req, body, res, op, md.param);
    case 'delay':
      return setTimeout(() => forward(req, body, res, (s, h, b) => answer(res, s, h, b)), md.param);
    case 'status': return injectStatus(res, md.param);
    case 'echo': return echo(req, body, res);
    case 'hang': return undefined; // keep the socket open, say nothing
    case 'reset': return resetSocket(req.socket);
    default: return undefined;
  }
}

function onRequest(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/_faults') {
      return answer(res, 200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(stats)));
    }
    return handle(req, Buffer.concat(chunks), res);
  });
}

let server;
if (args.tlsCert !== undefined) {
  let cert, key;
  try {
    cert = fs.readFileSync(args.tlsCert);
    key = fs.readFileSync(args.tlsKey);
  } catch (e) {
    usage(`cannot read the TLS certificate or key: ${e.message}`);
  }
  server = https.createServer({ cert, key }, onRequest);
} else {
  server = http.createServer(onRequest);
}
require('./listen')(server, args);
