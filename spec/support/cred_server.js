#!/usr/bin/env node
// cred_server.js: the AWS credential sources on one loopback port, for tests
// of dynamo.credentials. No dependencies.
//
// Usage:
//   node spec/support/cred_server.js [--port P] [--parent-pid PID]
//
// It listens on 127.0.0.1 (port 0 = any free port, the default) and prints
// exactly one line to stdout when ready:
//   listening <port>
//
// Protocols (as documented by AWS):
//   Container endpoint  GET /container/...  (AWS_CONTAINER_CREDENTIALS_FULL_URI)
//       -> 200 JSON {AccessKeyId, SecretAccessKey, Token, Expiration, RoleArn}.
//       When container_token is set, the Authorization header must equal it,
//       else 401 JSON {code, message}.
//   IMDSv2  (AWS_EC2_METADATA_SERVICE_ENDPOINT)
//       PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1..21600)
//           -> 200 a token (400 without the header)
//       GET /latest/meta-data/iam/security-credentials/       -> the role name
//       GET /latest/meta-data/iam/security-credentials/<role> -> 200 JSON {Code:
//           "Success", LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration}
//       GETs without a valid X-aws-ec2-metadata-token header -> 401.
//   STS Query API  POST / (form-encoded, Version=2011-06-15)
//       Action=AssumeRoleWithWebIdentity (RoleArn, RoleSessionName, WebIdentityToken)
//       Action=AssumeRole (RoleArn, RoleSessionName; needs an Authorization header
//           "AWS4-HMAC-SHA256 Credential=<akid>/<date>/<region>/sts/aws4_request,
//           SignedHeaders=..., Signature=...", verified when the secret of <akid>
//           is known, see `secrets`)
//       -> the XML AssumeRoleWithWebIdentityResponse / AssumeRoleResponse, or an
//          ErrorResponse <Error><Type/><Code/><Message/></Error><RequestId/> with 400/403.
//
// Credentials differ on every fetch: AccessKeyId ASIA<KIND><n>, SecretAccessKey
// secret-<kind>-<n>, token token-<kind>-<n>, where kind is container, imds,
// web (AssumeRoleWithWebIdentity) or role (AssumeRole) and n counts that kind.
//
// Control (for tests):
//   POST /_control  JSON merged into the settings:
//       expires_in          seconds until Expiration (default 3600; may be negative)
//       container_token     the Authorization value the container endpoint wants (null: any)
//       web_identity_token  the token AssumeRoleWithWebIdentity wants (null: any)
//       role                the IMDS role name (default "dynamo-test-role"; null: no role, 404)
//       secrets             {akid: secret}: AssumeRole signatures by these keys are
//                           verified (SignatureDoesNotMatch); other keys are then
//                           refused (InvalidClientTokenId). Empty (default): format only.
//       fail                {<counter>: {status, count, code, message}}: the next
//                           `count` requests of that counter answer an error
//       hang                {<counter>: true}: never answer those requests
//   POST /_reset    forget the settings and counters
//   GET  /_count?kind=<counter>  -> the number of requests so far, as text
//   GET  /_last?kind=<counter>   -> JSON {method, url, headers, params} of the last one
// Counters: container, imds_token, imds_role, imds (the credentials GET),
// sts_web, sts_assume.
//
// --parent-pid   exit when that process is gone; tests still kill it by PID.
'use strict';

const http = require('http');
const crypto = require('crypto');

function usage(msg) {
  process.stderr.write(`cred_server: ${msg}\n`);
  process.exit(2);
}

const args = { port: '0', parentPid: null };
for (let i = 2; i < process.argv.length; i += 2) {
  const flag = process.argv[i];
  const value = process.argv[i + 1];
  if (value === undefined) usage(`missing value for ${flag}`);
  if (flag === '--port') args.port = value;
  else if (flag === '--parent-pid') args.parentPid = value;
  else usage(`unknown flag ${flag}`);
}

const DEFAULTS = {
  expires_in: 3600, container_token: null, web_identity_token: null,
  role: 'dynamo-test-role', secrets: {}, fail: {}, hang: {},
};
let settings;
let counts;
let last;
let tokens; // IMDS token -> expiry (ms)
function reset() {
  settings = JSON.parse(JSON.stringify(DEFAULTS));
  counts = {};
  last = {};
  tokens = new Map();
}
reset();

function count(kind, req, params) {
  counts[kind] = (counts[kind] || 0) + 1;
  last[kind] = { method: req.method, url: req.url, headers: req.headers, params: params || null };
  return counts[kind];
}

// The injected failure for this request, if any (uses one up).
function injected(kind) {
  const f = settings.fail[kind];
  if (!f || !(f.count > 0)) return null;
  f.count -= 1;
  return f;
}

function expiration() {
  return new Date(Date.now() + settings.expires_in * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function creds(kind, n) {
  return {
    AccessKeyId: `ASIA${kind.toUpperCase()}${n}`,
    SecretAccessKey: `secret-${kind}-${n}`,
    Token: `token-${kind}-${n}`,
    Expiration: expiration(),
  };
}

function send(res, status, type, body) {
  const buf = Buffer.from(body);
  res.writeHead(status, { 'content-type': type, 'content-length': String(buf.length) });
  res.end(buf);
}

function json(res, status, value) {
  send(res, status, 'application/json', JSON.stringify(value));
}

// ---- container ---------------------------------------------------------

function container(req, res) {
  const n = count('container', req);
  if (settings.hang.container) return;
  const f = injected('container');
  if (f) return json(res, f.status, { code: f.code || 'InternalError', message: f.message || 'injected' });
  if (settings.container_token !== null && req.headers.authorization !== settings.container_token) {
    return json(res, 401, { code: 'AccessDenied', message: 'bad or missing Authorization header' });
  }
  const c = creds('container', n);
  json(res, 200, {
    AccessKeyId: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, Token: c.Token,
    Expiration: c.Expiration, RoleArn: 'arn:aws:iam::123456789012:role/container-role',
  });
}

// ---- IMDSv2 ------------------------------------------------------------

const CREDS_PATH = '/latest/meta-data/iam/security-credentials/';

function imds(req, res, path) {
  if (req.method === 'PUT' && path === '/latest/api/token') {
    count('imds_token', req);
    if (settings.hang.imds_token) return;
    const f = injected('imds_token');
    if (f) return send(res, f.status, 'text/plain', '');
    const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
    if (!(Number.isInteger(ttl) && ttl >= 1 && ttl <= 21600)) return send(res, 400, 'text/plain', '');
    const token = crypto.randomBytes(24).toString('base64');
    tokens.set(token, Date.now() + ttl * 1000);
    res.setHeader('x-aws-ec2-metadata-token-ttl-seconds', String(ttl));
    return send(res, 200, 'text/plain', token);
  }
  if (req.method !== 'GET') return send(res, 405, 'text/plain', '');
  const kind = path === CREDS_PATH ? 'imds_role' : 'imds';
  const n = count(kind, req);
  if (settings.hang[kind]) return;
  const expiry = tokens.get(req.headers['x-aws-ec2-metadata-token']);
  if (!expiry || expiry < Date.now()) return send(res, 401, 'text/plain', '');
  const f = injected(kind);
  if (f) return send(res, f.status, 'text/plain', '');
  if (!path.startsWith(CREDS_PATH) || settings.role === null) return send(res, 404, 'text/plain', '');
  if (path === CREDS_PATH) return send(res, 200, 'text/plain', settings.role);
  if (path !== CREDS_PATH + settings.role) return send(res, 404, 'text/plain', '');
  const c = creds('imds', n);
  json(res, 200, {
    Code: 'Success', LastUpdated: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), Type: 'AWS-HMAC',
    AccessKeyId: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, Token: c.Token, Expiration: c.Expiration,
  });
}

// ---- STS ---------------------------------------------------------------

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

function xmlEscape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function stsError(res, status, code, message) {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  send(res, status, 'text/xml', `<ErrorResponse xmlns="${NS}">\n  <Error>\n    <Type>${type}</Type>\n`
    + `    <Code>${xmlEscape(code)}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n`
    + `  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`);
}

function credentialsXml(c) {
  return `    <Credentials>\n      <AccessKeyId>${c.AccessKeyId}</AccessKeyId>\n`
    + `      <SecretAccessKey>${xmlEscape(c.SecretAccessKey)}</SecretAccessKey>\n`
    + `      <SessionToken>${xmlEscape(c.Token)}</SessionToken>\n`
    + `      <Expiration>${c.Expiration}</Expiration>\n    </Credentials>\n`;
}

function hmac(key, s) { return crypto.createHmac('sha256', key).update(s).digest(); }
function sha256hex(s) { return crypto.createHash('sha256').update(s).digest('hex'); }

// Checks the SigV4 Authorization header of an AssumeRole request; returns
// null when acceptable, else [status, code, message].
function checkSignature(req, body) {
  const auth = req.headers.authorization;
  if (!auth) return [403, 'MissingAuthenticationToken', 'Request is missing Authentication Token'];
  const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/sts\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [403, 'IncompleteSignature', 'Authorization header requires Credential, SignedHeaders and Signature for the sts service'];
  const [, akid, date, region, signedHeaders, signature] = m;
  const amzDate = req.headers['x-amz-date'];
  if (!amzDate || amzDate.slice(0, 8) !== date) return [403, 'IncompleteSignature', 'X-Amz-Date is missing or does not match the credential scope'];
  const secrets = settings.secrets;
  if (Object.keys(secrets).length === 0) return null;
  if (!(akid in secrets)) return [403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'];
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return [403, 'SignatureDoesNotMatch', 'host is not signed'];
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const url = new URL(req.url, 'http://x');
  const creq = ['POST', url.pathname, url.search.slice(1), canonicalHeaders, signedHeaders, sha256hex(body)].join('\n');
  const scope = `${date}/${region}/sts/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(creq)].join('\n');
  let key = hmac(`AWS4${secrets[akid]}`, date);
  key = hmac(key, region);
  key = hmac(key, 'sts');
  key = hmac(key, 'aws4_request');
  const want = hmac(key, sts).toString('hex');
  if (want !== signature) {
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  }
  return null;
}

function stsRequest(req, res, body) {
  const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  const action = params.Action;
  const kind = action === 'AssumeRole' ? 'sts_assume' : 'sts_web';
  const n = count(kind, req, params);
  if (settings.hang[kind]) return;
  if (params.Version !== '2011-06-15') return stsError(res, 400, 'InvalidAction', `Could not find operation ${action} for version ${params.Version}`);
  if (action !== 'AssumeRole' && action !== 'AssumeRoleWithWebIdentity') {
    return stsError(res, 400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
  }
  const f = injected(kind);
  if (f) return stsError(res, f.status, f.code || 'InternalFailure', f.message || 'injected');
  const required = action === 'AssumeRole' ? ['RoleArn', 'RoleSessionName'] : ['RoleArn', 'RoleSessionName', 'WebIdentityToken'];
  for (const p of required) {
    if (!params[p]) return stsError(res, 400, 'MissingParameter', `The request must contain the parameter ${p}`);
  }
  const arn = params.RoleArn;
  const roleName = arn.replace(/^.*\//, '');
  const user = `    <AssumedRoleUser>\n      <Arn>arn:aws:sts::123456789012:assumed-role/${xmlEscape(roleName)}/${xmlEscape(params.RoleSessionName)}</Arn>\n`
    + `      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:${xmlEscape(params.RoleSessionName)}</AssumedRoleId>\n    </AssumedRoleUser>\n`;
  const meta = `  <ResponseMetadata>\n    <RequestId>${crypto.randomUUID()}</RequestId>\n  </ResponseMetadata>\n`;
  if (action === 'AssumeRole') {
    const bad = checkSignature(req, body);
    if (bad) return stsError(res, bad[0], bad[1], bad[2]);
    const c = creds('role', n);
    return send(res, 200, 'text/xml', `<AssumeRoleResponse xmlns="${NS}">\n  <AssumeRoleResult>\n`
      + `${credentialsXml(c)}${user}    <PackedPolicySize>6</PackedPolicySize>\n  </AssumeRoleResult>\n${meta}</AssumeRoleResponse>\n`);
  }
  if (settings.web_identity_token !== null && params.WebIdentityToken !== settings.web_identity_token) {
    return stsError(res, 400, 'InvalidIdentityToken', 'Incorrect token audience');
  }
  const c = creds('web', n);
  send(res, 200, 'text/xml', `<AssumeRoleWithWebIdentityResponse xmlns="${NS}">\n  <AssumeRoleWithWebIdentityResult>\n`
    + `    <SubjectFromWebIdentityToken>system:serviceaccount:default:app</SubjectFromWebIdentityToken>\n`
    + `    <Audience>sts.amazonaws.com</Audience>\n${user}${credentialsXml(c)}`
    + `    <Provider>arn:aws:iam::123456789012:oidc-provider/example.com</Provider>\n`
    + `  </AssumeRoleWithWebIdentityResult>\n${meta}</AssumeRoleWithWebIdentityResponse>\n`);
}

// ---- control and dispatch ----------------------------------------------

function control(req, res, url, body) {
  if (req.method === 'POST' && url.pathname === '/_reset') {
    reset();
    return send(res, 200, 'text/plain', 'ok');
  }
  if (req.method === 'POST' && url.pathname === '/_control') {
    let patch;
    try { patch = JSON.parse(body.toString('utf8') || '{}'); } catch (e) { return send(res, 400, 'text/plain', 'bad JSON'); }
    Object.assign(settings, patch);
    return send(res, 200, 'text/plain', 'ok');
  }
  const kind = url.searchParams.get('kind');
  if (req.method === 'GET' && url.pathname === '/_count') return send(res, 200, 'text/plain', String(counts[kind] || 0));
  if (req.method === 'GET' && url.pathname === '/_last') return json(res, 200, last[kind] || null);
  return send(res, 404, 'text/plain', 'unknown control endpoint');
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/_')) return control(req, res, url, body);
    if (path.startsWith('/container')) return container(req, res);
    if (path.startsWith('/latest/')) return imds(req, res, path);
    if (req.method === 'POST' && path === '/') return stsRequest(req, res, body);
    return send(res, 404, 'text/plain', 'not found');
  });
});
require('./listen')(server, args);
