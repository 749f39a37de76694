'use strict';
// Benchmark peer: the AWS SDK for JavaScript v3, one workload per process,
// as docs/performance.md describes them (bench/suite.lua runs it; wall is
// process.hrtime, CPU process.cpuUsage: user + system, all threads). Measures what the same
// work costs through the SDK, so the Lua client's figures have a reference:
//   w1        decode a 1 MB Query page (canned HTTP response, no network)
//   w2        encode 1,000 items as 40 BatchWriteItem requests (canned, no network)
//   w3get/put 1,000 sequential GetItem/PutItem against a canned server at ENDPOINT
//   w4        write, scan, parallel scan and get 20,000 items on DynamoDB Local
//   w5iter/w5collect  memory growth of a full Scan (TABLE filled by w4 beforehand)
// LAYER `client` = @aws-sdk/client-dynamodb with wrapped AttributeValues,
// LAYER `lib` = @aws-sdk/lib-dynamodb's DynamoDBDocumentClient with native values.
// Run:
//   NODE_PATH=.cache/bench/node/node_modules node --expose-gc \
//     bench/peers/sdk_bench.js LAYER WORKLOAD DATADIR [ENDPOINT [TABLE]]
// Prints one JSON line on stdout; anything else goes to stderr, and any error
// exits non-zero without a result. Env: BENCH_REPS overrides the timed
// repetition counts (w1, w2, w3); BENCH_KEEP_TABLE=1 keeps w4's table (to fill it for w5).

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { Readable } = require('stream');
const { createRequire } = require('module');
const ddb = require('@aws-sdk/client-dynamodb');
const lib = require('@aws-sdk/lib-dynamodb');
const { unmarshall } = require('@aws-sdk/util-dynamodb');

// HttpResponse must be the class the SDK itself uses, so resolve it from the
// client's own location: newer SDKs fold @smithy/protocol-http into @smithy/core.
const sdkRequire = createRequire(require.resolve('@aws-sdk/client-dynamodb'));
const { HttpResponse } = (() => {
  try { return sdkRequire('@smithy/protocol-http'); } catch (e) { return sdkRequire('@smithy/core/protocols'); }
})();

const CREDENTIALS = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' };
const REGION = 'us-east-1';
const envReps = Number.parseInt(process.env.BENCH_REPS || '', 10);
const reps = (dflt) => (envReps > 0 ? envReps : dflt);

function fail(msg) { throw new Error(msg); }

// ---- timing ---------------------------------------------------------------

// Runs fn once; returns wall and process CPU (user+system, all threads) in seconds.
async function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

// ---- canned HTTP ----------------------------------------------------------

const crc32 = zlib.crc32 || (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (buf) => {
    let c = 0xffffffff;
    for (let i = 0; i < buf.length; i++) c = table[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
})();

// A requestHandler that answers every request with `body` in-process, so the
// full client path (serialize, sign, middleware, parse) runs without a socket.
function cannedHandler(body) {
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': 'canned',
    'x-amz-crc32': String(crc32(body)),
    'content-length': String(body.length),
  };
  return {
    async handle(request) {
      // Touch the serialized body so serialization cannot be skipped lazily.
      const b = request.body;
      const len = typeof b === 'string' ? Buffer.byteLength(b) : (b && b.byteLength) || 0;
      if (!(len > 0)) fail('canned send: empty request body');
      return { response: new HttpResponse({ statusCode: 200, headers: { ...headers }, body: Readable.from(body) }) };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() { return {}; },
  };
}

// ---- layers ---------------------------------------------------------------

// The page holds B/BS as base64 text; the client layer's input form wants bytes.
function toInputAV(av) {
  if ('B' in av) return { B: new Uint8Array(Buffer.from(av.B, 'base64')) };
  if ('BS' in av) return { BS: av.BS.map((s) => new Uint8Array(Buffer.from(s, 'base64'))) };
  if ('M' in av) return { M: toInputItem(av.M) };
  if ('L' in av) return { L: av.L.map(toInputAV) };
  return av;
}
function toInputItem(item) {
  const out = {};
  for (const k of Object.keys(item)) out[k] = toInputAV(item[k]);
  return out;
}

// One object per layer: the client to send through, its commands, and how a
// page item / key / string value looks in that layer's form.
function makeLayer(name, clientConfig) {
  const raw = new ddb.DynamoDBClient({ region: REGION, credentials: CREDENTIALS, ...clientConfig });
  if (name === 'client') {
    return {
      raw, client: raw,
      Query: ddb.QueryCommand, BatchWrite: ddb.BatchWriteItemCommand, Get: ddb.GetItemCommand,
      Put: ddb.PutItemCommand, Scan: ddb.ScanCommand,
      item: toInputItem,
      str: (s) => ({ S: s }),
    };
  }
  if (name === 'lib') {
    // wrapNumbers keeps 38-digit numbers and 1E+100 exact (NumberValue) instead of throwing.
    const client = lib.DynamoDBDocumentClient.from(raw, {
      marshallOptions: { convertEmptyValues: false },
      unmarshallOptions: { wrapNumbers: true },
    });
    return {
      raw, client,
      Query: lib.QueryCommand, BatchWrite: lib.BatchWriteCommand, Get: lib.GetCommand,
      Put: lib.PutCommand, Scan: lib.ScanCommand,
      item: (it) => unmarshall(toInputItem(it), { wrapNumbers: true }),
      str: (s) => s,
    };
  }
  fail(`unknown layer ${name} (client | lib)`);
}

function loadPage(datadir) {
  const bytes = fs.readFileSync(path.join(datadir, 'page.json'));
  const page = JSON.parse(bytes);
  if (!Array.isArray(page.Items) || page.Items.length !== 1000) fail('page.json: expected 1000 Items');
  return { bytes, items: page.Items };
}

const keyOf = (L, pk, sk) => ({ pk: L.str(pk), sk: L.str(sk) });

// ---- workloads ------------------------------------------------------------

async function w1(args) {
  const { bytes } = loadPage(args.datadir);
  const L = makeLayer(args.layer, { requestHandler: cannedHandler(bytes), ...args.endpointConfig });
  const input = {
    TableName: 'bench', KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': L.str('CUSTOMER#000001') },
  };
  const call = async () => {
    const out = await L.client.send(new L.Query(input));
    if (out.Items.length !== 1000) fail(`w1: got ${out.Items.length} items`);
  };
  for (let i = 0; i < 3; i++) await call();
  const n = reps(20);
  const t = await timed(async () => { for (let i = 0; i < n; i++) await call(); });
  return { wall: t.wall / n, cpu: t.cpu / n, n: 1000, reps: n };
}

async function w2(args) {
  const { items } = loadPage(args.datadir);
  const L = makeLayer(args.layer, { requestHandler: cannedHandler(Buffer.from('{"UnprocessedItems":{}}')), ...args.endpointConfig });
  const inputs = items.map(L.item); // conversion happens before timing
  const rep = async () => {
    for (let k = 0; k < 40; k++) {
      const puts = inputs.slice(25 * k, 25 * k + 25).map((Item) => ({ PutRequest: { Item } }));
      await L.client.send(new L.BatchWrite({ RequestItems: { bench: puts } }));
    }
  };
  for (let i = 0; i < 2; i++) await rep();
  const n = reps(10);
  const t = await timed(async () => { for (let i = 0; i < n; i++) await rep(); });
  return { wall: t.wall / n, cpu: t.cpu / n, n: 1000, reps: n };
}

const W4_ATTRIBUTES = ['status', 'created_at', 'subtotal', 'gift', 'coupon', 'tags', 'shipping'];

// w3get / w3put: sequential round trips over one keep-alive connection.
async function w3(args, op) {
  const { items } = loadPage(args.datadir);
  const L = makeLayer(args.layer, args.endpointConfig);
  // Page item 1's key with the w4 attributes (~330 bytes): see bench/runner.lua.
  const full = L.item(items[0]);
  const first = Object.fromEntries(['pk', 'sk', ...W4_ATTRIBUTES].map((name) => [name, full[name]]));
  const cmd = op === 'get'
    ? () => new L.Get({ TableName: 'bench', Key: keyOf(L, items[0].pk.S, items[0].sk.S) })
    : () => new L.Put({ TableName: 'bench', Item: first });
  const call = async () => {
    const out = await L.client.send(cmd());
    if (op === 'get' && !out.Item) fail('w3get: Item missing');
  };
  for (let i = 0; i < 50; i++) await call();
  const n = reps(1000);
  const t = await timed(async () => { for (let i = 0; i < n; i++) await call(); });
  return { wall: t.wall / n, cpu: t.cpu / n, n };
}

// Scans one segment (or the whole table) page by page, handing each page to onPage.
async function scanAll(L, table, extra, onPage) {
  let key;
  do {
    const out = await L.client.send(new L.Scan({ TableName: table, ExclusiveStartKey: key, ...extra }));
    onPage(out.Items);
    key = out.LastEvaluatedKey;
  } while (key);
}

async function w4(args) {
  const { items } = loadPage(args.datadir);
  const L = makeLayer(args.layer, args.endpointConfig);
  const table = args.table;
  await L.raw.send(new ddb.CreateTableCommand({
    TableName: table, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  }));
  await ddb.waitUntilTableExists({ client: L.raw, maxWaitTime: 60, minDelay: 1 }, { TableName: table });
  // The w4 attributes of each page item (~330 bytes): see bench/runner.lua.
  const project = (item) => Object.fromEntries(W4_ATTRIBUTES.map((name) => [name, item[name]]));
  const inputs = items.map(L.item).map(project);
  const pkOf = (i) => `ITEM#${String(i).padStart(5, '0')}`;
  const all = [];
  for (let i = 0; i < 20000; i++) all.push({ ...inputs[i % 1000], pk: L.str(pkOf(i)), sk: L.str('A') });

  const write = await timed(async () => {
    for (let k = 0; k < all.length; k += 25) {
      let req = { [table]: all.slice(k, k + 25).map((Item) => ({ PutRequest: { Item } })) };
      while (req && Object.keys(req).length) {
        req = (await L.client.send(new L.BatchWrite({ RequestItems: req }))).UnprocessedItems;
      }
    }
  });
  let count = 0;
  const scan = await timed(() => scanAll(L, table, {}, (page) => { count += page.length; }));
  if (count !== 20000) fail(`w4 scan: counted ${count}`);
  count = 0;
  const pscan = await timed(() => Promise.all([0, 1, 2, 3].map((Segment) =>
    scanAll(L, table, { Segment, TotalSegments: 4 }, (page) => { count += page.length; }))));
  if (count !== 20000) fail(`w4 pscan: counted ${count}`);
  const get = await timed(async () => {
    for (let i = 0; i < 20000; i += 10) {
      const out = await L.client.send(new L.Get({ TableName: table, Key: keyOf(L, pkOf(i), 'A') }));
      if (!out.Item) fail(`w4 get: ${pkOf(i)} not found`);
    }
  });
  if (process.env.BENCH_KEEP_TABLE !== '1') await L.raw.send(new ddb.DeleteTableCommand({ TableName: table }));
  return {
    write: { ...write, n: 20000 }, scan: { ...scan, n: 20000 },
    pscan: { ...pscan, n: 20000 }, get: { ...get, n: 2000 },
  };
}

function procStatusKb(field) {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!m) fail(`no ${field} in /proc/self/status`);
  return Number(m[1]);
}

// Resets VmHWM to the current RSS, so the peak is the scan's own.
function resetPeak() {
  fs.writeFileSync('/proc/self/clear_refs', '5');
}

// w5iter / w5collect: RSS growth of a full scan, keeping nothing or every item.
async function w5(args, collect) {
  if (typeof global.gc !== 'function') fail('w5 needs node --expose-gc');
  const L = makeLayer(args.layer, args.endpointConfig);
  await L.client.send(new L.Scan({ TableName: args.table, Limit: 1 }));
  global.gc();
  const base = procStatusKb('VmRSS');
  resetPeak();
  const kept = [];
  let count = 0;
  const t = await timed(() => scanAll(L, args.table, {}, (page) => {
    count += page.length;
    if (collect) for (const it of page) kept.push(it);
  }));
  const hwm = procStatusKb('VmHWM');
  if (count !== 20000) fail(`w5: counted ${count}`);
  if (collect && kept.length !== 20000) fail(`w5collect: kept ${kept.length}`);
  return { base_kb: base, peak_kb: hwm, growth_kb: Math.max(0, hwm - base), n: 20000, wall: t.wall, cpu: t.cpu };
}

// ---- main -----------------------------------------------------------------

const WORKLOADS = {
  w1, w2,
  w3get: (a) => w3(a, 'get'), w3put: (a) => w3(a, 'put'),
  w4,
  w5iter: (a) => w5(a, false), w5collect: (a) => w5(a, true),
};
const NEEDS_ENDPOINT = new Set(['w3get', 'w3put', 'w4', 'w5iter', 'w5collect']);
const NEEDS_TABLE = new Set(['w4', 'w5iter', 'w5collect']);

async function main(argv) {
  // The driver passes "-" for an ENDPOINT or TABLE a workload does not use.
  const [layer, workload, datadir, endpoint, table] = argv.map((a) => (a === '-' ? undefined : a));
  if (!layer || !workload || !datadir) fail('usage: sdk_bench.js client|lib WORKLOAD DATADIR [ENDPOINT [TABLE]]');
  if (layer !== 'client' && layer !== 'lib') fail(`unknown layer ${layer} (client | lib)`);
  const run = WORKLOADS[workload] || fail(`unknown workload ${workload} (${Object.keys(WORKLOADS).join(' ')})`);
  if (NEEDS_ENDPOINT.has(workload) && !endpoint) fail(`${workload} needs ENDPOINT`);
  if (NEEDS_TABLE.has(workload) && !table) fail(`${workload} needs TABLE`);
  // w1/w2 never reach the network; an ENDPOINT, if given, only changes the URL that is signed.
  const endpointConfig = endpoint ? { endpoint } : {};
  const result = await run({ layer, datadir, endpoint, table, endpointConfig });
  process.stdout.write(JSON.stringify(result) + '\n');
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`sdk_bench: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
