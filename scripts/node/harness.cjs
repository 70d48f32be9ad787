'use strict';
// What both Node SDK scripts share: starting and stopping the emulator, the consent page as a
// person would use it, `  ok  step` lines with a timeout per step, and, when a step fails, what the
// SDK sent (secrets masked), what the emulator answered and the emulator's own log of the last
// exchanges. Plain Node 20 (global fetch), no dependency.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// ---------------------------------------------------------------------------------------------
// Masking: nothing secret is ever printed.

const SECRET_FIELDS = new Set([
  'access_token', 'actor_token', 'assertion', 'client_secret', 'code', 'csrf_token', 'passphrase',
  'privateKey', 'private_key', 'refresh_token', 'subject_token', 'token',
]);

function mask(value) {
  const text = String(value);
  return text.length <= 8 ? '****' : `${text.slice(0, 4)}…(${text.length} chars)`;
}

function maskFields(fields) {
  if (fields == null || typeof fields !== 'object') return fields;
  if (Array.isArray(fields)) return fields.map(maskFields);
  const out = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value == null) continue;
    out[key] = SECRET_FIELDS.has(key) ? mask(value) : maskFields(value);
  }
  return out;
}

function maskHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers || {})) {
    const lower = name.toLowerCase();
    if (lower === 'authorization') {
      const [scheme, secret] = String(value).split(' ');
      out[name] = secret ? `${scheme} ${mask(secret)}` : mask(value);
    } else if (lower === 'cookie' || lower === 'set-cookie') {
      out[name] = '****';
    } else {
      out[name] = value;
    }
  }
  return out;
}

function maskUrl(url) {
  try {
    const parsed = new URL(url);
    for (const key of [...parsed.searchParams.keys()]) {
      if (SECRET_FIELDS.has(key)) parsed.searchParams.set(key, '****');
    }
    return parsed.toString();
  } catch {
    return String(url);
  }
}

// A form body (a string or an object) as masked `name=value` pairs.
function maskForm(body) {
  if (body == null) return undefined;
  const fields = typeof body === 'string' || Buffer.isBuffer(body)
    ? Object.fromEntries(new URLSearchParams(String(body)))
    : body;
  return maskFields(fields);
}

// ---------------------------------------------------------------------------------------------
// The SDK's side of the wire, as the SDK reports it (an interceptor, an event): kept so that a
// failing step can say exactly what was sent and answered.

class Wire {
  constructor() {
    this.exchanges = [];
  }

  // { method, url, headers, form, json } as sent; the answer is added by `answered`.
  sent(request) {
    const exchange = { request, response: undefined };
    this.exchanges.push(exchange);
    return exchange;
  }

  // The answer to `exchange`, or to the most recent request still without one.
  answered(exchange, response) {
    const target = exchange || [...this.exchanges].reverse().find((e) => e.response === undefined);
    (target || this.sent({})).response = response;
  }

  mark() {
    return this.exchanges.length;
  }

  since(mark) {
    return this.exchanges.slice(mark);
  }

  // The form fields (unmasked) of the most recent request with this `grant_type`: for
  // checks on what the SDK put in its own request (the JWT header, say).
  lastForm(grantType) {
    for (let i = this.exchanges.length - 1; i >= 0; i--) {
      const form = this.exchanges[i].request && this.exchanges[i].request.form;
      if (form && form.grant_type === grantType) return form;
    }
    return undefined;
  }
}

function describeExchange({ request, response }) {
  const lines = [];
  if (request && request.method) {
    lines.push(`the SDK sent: ${request.method} ${maskUrl(request.url)}`);
    const headers = maskHeaders(request.headers);
    for (const [name, value] of Object.entries(headers)) lines.push(`  ${name}: ${value}`);
    if (request.form) lines.push(`  form: ${JSON.stringify(maskForm(request.form))}`);
    if (request.json !== undefined) lines.push(`  json: ${JSON.stringify(maskFields(request.json))}`);
    if (request.note) lines.push(`  (${request.note})`);
  }
  if (response) {
    const body = typeof response.body === 'string' ? response.body : JSON.stringify(maskFields(response.body));
    const keep = ['content-type', 'www-authenticate', 'box-request-id', 'location', 'retry-after'];
    const headers = Object.entries(maskHeaders(response.headers || {}))
      .filter(([name]) => keep.includes(name.toLowerCase()))
      .map(([name, value]) => `${name}: ${value}`);
    lines.push(`the emulator answered: ${response.status}${headers.length ? ` (${headers.join('; ')})` : ''} ${(body || '').slice(0, 400)}`);
  } else if (request && request.method) {
    lines.push('no answer was recorded');
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The emulator.

async function startEmulator(binary, { tls = false, keepRequests = 1000, timeoutMs = 20000 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxauth-node-sdk-'));
  const args = ['emulator', '--addr', '127.0.0.1:0', '--export-config', dir, '--keep-requests', String(keepRequests)];
  if (tls) args.push('--tls');
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-8000); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise((resolve) => child.on('error', resolve));

  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner within ${timeoutMs / 1000} s; stderr: ${stderr}`)), timeoutMs);
    child.stdout.setEncoding('utf8');
    const onData = (chunk) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      const first = out.slice(0, newline);
      const match = /(https?:\/\/127\.0\.0\.1:\d+)/.exec(first);
      if (match) resolve(match[1]);
      else reject(new Error(`unexpected first line ${JSON.stringify(first)}; stderr: ${stderr}`));
      // Keep reading, so the emulator never blocks on a full pipe.
      child.stdout.off('data', onData);
      child.stdout.resume();
    };
    child.stdout.on('data', onData);
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`it exited (code ${code}, signal ${signal}); stderr: ${stderr}`)); });
    spawnError.then((error) => { clearTimeout(timer); reject(error); });
  }).catch((error) => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  });

  const read = (name) => fs.readFileSync(path.join(dir, name), 'utf8');
  return {
    base,
    dir,
    world: JSON.parse(read('emulator.json')),
    boxConfigPath: path.join(dir, 'box_config.json'),
    caPath: path.join(dir, 'emulator-ca.pem'),
    stderrTail: () => stderr,
    // SIGINT (Ctrl-C) and its exit; `{ code: null, hung: true }` if it did not stop in time.
    async stop(timeoutMs = 10000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGINT');
      let timer;
      const result = await Promise.race([
        exited,
        new Promise((resolve) => { timer = setTimeout(() => resolve({ code: null, hung: true }), timeoutMs); }),
      ]);
      clearTimeout(timer);
      if (result.hung) child.kill('SIGKILL');
      return result;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The emulator's own record of the last `count` exchanges (GET /__emulator/requests), one line each.
async function emulatorLog(base, count = 6) {
  try {
    const answer = await fetch(`${base}/__emulator/requests`, { signal: AbortSignal.timeout(3000) });
    const all = (await answer.json()).filter((e) => e.path !== '/__emulator/requests');
    return all.slice(-count).map((e) => [
      `${e.method} ${e.path} ${e.status}`,
      e.grant_type && `grant_type=${e.grant_type}`,
      e.error && `error=${e.error}`,
      e.error_description && `error_description=${JSON.stringify(e.error_description)}`,
      `box-request-id=${e.request_id}`,
    ].filter(Boolean).join(' '));
  } catch (error) {
    return [`(could not read GET /__emulator/requests: ${error.message})`];
  }
}

// ---------------------------------------------------------------------------------------------
// The consent page, as a person uses it: open, sign in, approve. Returns the redirect's Location.

async function consent(authorizeUrl, login) {
  const page = await fetch(authorizeUrl, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the consent page answered ${page.status}: ${html.slice(0, 300)}`);
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(html);
  const action = /<form method="post" action="([^"]+)"/.exec(html);
  if (!csrf || !action) throw new Error(`no form with a csrf_token on the consent page: ${html.slice(0, 300)}`);
  const target = new URL(action[1].replace(/&amp;|&#38;/g, '&'), authorizeUrl);
  const setCookies = page.headers.getSetCookie ? page.headers.getSetCookie() : [page.headers.get('set-cookie')].filter(Boolean);
  const cookies = setCookies.map((c) => c.split(';')[0]).join('; ');
  const answer = await fetch(target, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookies ? { cookie: cookies } : {}) },
    body: new URLSearchParams({ csrf_token: csrf[1], login, decision: 'approve' }).toString(),
    signal: AbortSignal.timeout(10000),
  });
  if (answer.status !== 302) throw new Error(`approving answered ${answer.status}: ${(await answer.text()).slice(0, 300)}`);
  return answer.headers.get('location');
}

// ---------------------------------------------------------------------------------------------
// Steps.

class CheckFailed extends Error {}
class GroupStopped extends Error {}

function expect(condition, detail) {
  if (!condition) throw new CheckFailed(typeof detail === 'function' ? detail() : (detail || 'the check did not hold'));
}

// The header and claims of a compact JWT, without verifying it (the SDK made it; we only look).
function decodeJwt(jwt) {
  const [header, claims] = String(jwt).split('.').slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, claims };
}

function errorText(error) {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  // box-node-sdk 10: BoxApiError.responseInfo; 4.x: err.statusCode / err.response.body.
  if (error.responseInfo) {
    parts.push(`(status ${error.responseInfo.statusCode}, body ${JSON.stringify(maskFields(error.responseInfo.body))})`);
  } else if (error.statusCode !== undefined && error.response) {
    parts.push(`(status ${error.statusCode}, body ${JSON.stringify(maskFields(error.response.body))})`);
  }
  return parts.join(' ');
}

// Runs named steps in groups: a failing step stops its group (the rest of the group depends on
// it), and the next group runs; at the end, the exit code is non-zero if anything failed. Each step
// has a timeout: a step that hangs prints which one it was and calls `onHang` (which stops the
// emulator and exits).
class Runner {
  constructor({ base, wire, stepTimeoutMs = 30000, onHang, onStart }) {
    this.base = base;
    this.wire = wire;
    this.stepTimeoutMs = stepTimeoutMs;
    this.onHang = onHang;
    this.onStart = onStart || (() => {});
    this.passed = [];
    this.failed = [];
  }

  async step(name, fn, timeoutMs = this.stepTimeoutMs) {
    const mark = this.wire ? this.wire.mark() : 0;
    this.onStart(name);
    let timer;
    const hang = new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs, HUNG); });
    let outcome;
    try {
      outcome = await Promise.race([Promise.resolve().then(fn), hang]);
    } catch (error) {
      clearTimeout(timer);
      await this.report(name, errorText(error), mark);
      throw new GroupStopped(name);
    }
    clearTimeout(timer);
    if (outcome === HUNG) {
      await this.report(name, `no result within ${timeoutMs / 1000} s: this step hung`, mark);
      await this.onHang(name);
      return undefined;
    }
    console.log(`  ok  ${name}`);
    this.passed.push(name);
    return outcome;
  }

  async report(name, detail, mark) {
    console.log(`FAIL  ${name}: ${detail}`);
    this.failed.push(name);
    if (this.wire) {
      for (const exchange of this.wire.since(mark).slice(-4)) {
        for (const line of describeExchange(exchange)) console.log(`        ${line}`);
      }
    }
    if (this.base) {
      console.log('        the emulator\'s log of the last exchanges:');
      for (const line of await emulatorLog(this.base)) console.log(`          ${line}`);
    }
  }

  async group(title, fn) {
    try {
      await fn();
    } catch (error) {
      if (error instanceof GroupStopped) {
        console.log(`      (the rest of "${title}" depends on that step: skipped, and the run fails)`);
      } else {
        console.log(`FAIL  ${title}: ${errorText(error)}`);
        this.failed.push(title);
      }
    }
  }
}

const HUNG = Symbol('hung');

module.exports = {
  CheckFailed, Runner, Wire, consent, decodeJwt, emulatorLog, errorText, expect, mask, maskFields,
  maskForm, maskHeaders, startEmulator,
};
