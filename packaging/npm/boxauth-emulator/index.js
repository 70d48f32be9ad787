'use strict';
// The Box auth emulator from Node: start the `boxauth` binary on a free port (or attach to one
// already running), and its control API (`/__emulator/...`), the same operations as the Rust
// EmulatorHandle's and the Python fixture's.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { binaryPath } = require('./platform.js');

class EmulatorError extends Error {}

async function control(base, method, route, body) {
  const init = { method, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(30000) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const answer = await fetch(`${base}/__emulator/${route}`, init);
  const text = await answer.text();
  if (!answer.ok) throw new EmulatorError(`${method} ${route}: HTTP ${answer.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

class Emulator {
  constructor(ready, child, workdir) {
    this.baseUrl = ready.base_url;
    this.oauth2Url = ready.oauth2_url;
    this.clientId = ready.client_id;
    this.clientSecret = ready.client_secret;
    this.enterpriseId = ready.enterprise_id;
    this.adminUserId = ready.admin_user_id;
    this.adminLogin = ready.admin_login;
    this.jwtConfigPath = ready.box_config;
    this.caFile = ready.ca_file;
    this.ready = ready;
    Object.defineProperty(this, 'child', { value: child, enumerable: false });
    Object.defineProperty(this, 'workdir', { value: workdir, writable: true, enumerable: false });
  }

  toJSON() { return this.ready; }

  health() { return control(this.baseUrl, 'GET', 'health'); }
  stats() { return control(this.baseUrl, 'GET', 'stats'); }
  /** The request log, oldest first (secrets masked). */
  requests() { return control(this.baseUrl, 'GET', 'requests'); }
  advanceClock(seconds) { return control(this.baseUrl, 'POST', 'clock/advance', { seconds }); }
  setClockOffset(seconds) { return control(this.baseUrl, 'POST', 'clock/offset', { seconds }); }
  /** The next requests to Box's paths get these, in order: 503, '429:2', 'drop', 'pass'... */
  scriptFaults(faults) { return control(this.baseUrl, 'POST', 'faults/script', { faults: faults.map(String) }); }
  setFaultRate(rate, faults) { return control(this.baseUrl, 'POST', 'faults/rate', { rate, faults: faults.map(String) }); }
  clearFaults() { return control(this.baseUrl, 'POST', 'faults/clear', {}); }
  /** Codes, tokens, clock, faults, counters and log cleared; the world kept. */
  reset() { return control(this.baseUrl, 'POST', 'reset', {}); }
  world() { return control(this.baseUrl, 'GET', 'world'); }
  addUser(fields) { return control(this.baseUrl, 'POST', 'users', fields); }
  addApp(fields) { return control(this.baseUrl, 'POST', 'apps', fields); }
  addItem(fields) { return control(this.baseUrl, 'POST', 'items', fields); }
  revokeUserTokens(userId) {
    return control(this.baseUrl, 'POST', `users/${encodeURIComponent(userId)}/revoke-tokens`, {});
  }

  /**
   * Approves the consent page as a browser would (opens it, signs in as `login`, by default the
   * page's own, clicks "Grant access") and returns the redirect URL with `code` and `state`. An
   * authorize URL on Box's host (as SDKs build it) is opened on the emulator.
   */
  async approve(authorizeUrl, login) {
    let url = authorizeUrl;
    if (!url.startsWith(this.oauth2Url)) url = `${this.oauth2Url}/authorize${new URL(url).search}`;
    const page = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
    const html = await page.text();
    if (page.status !== 200) throw new EmulatorError(`the consent page answered ${page.status}: ${html.slice(0, 300)}`);
    const cookie = (page.headers.get('set-cookie') || '').split(';')[0];
    const field = (re) => (html.match(re) || [])[1];
    const csrf = field(/name="csrf_token" value="([^"]*)"/);
    const action = field(/<form[^>]*action="([^"]*)"/).replaceAll('&amp;', '&').replaceAll('&#38;', '&');
    const form = new URLSearchParams({ csrf_token: csrf, login: login ?? field(/name="login" value="([^"]*)"/), decision: 'approve' });
    const answer = await fetch(new URL(action, url), {
      method: 'POST', redirect: 'manual', body: form, headers: { cookie }, signal: AbortSignal.timeout(10000),
    });
    const location = answer.headers.get('location');
    if (![302, 303].includes(answer.status) || !location) {
      throw new EmulatorError(`the consent page did not redirect: ${answer.status} ${(await answer.text()).slice(0, 300)}`);
    }
    return location;
  }

  /** Stops the process this object started (an attached emulator is left running). */
  async stop() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    if (this.workdir) {
      fs.rmSync(this.workdir, { recursive: true, force: true });
      this.workdir = null;
    }
  }
}

/**
 * Starts `boxauth emulator` on a free port and resolves once its ready line is printed.
 * Options: `args` (extra flags, e.g. ['--tls']), `configToml` (the text of a world file),
 * `binary` (default: the platform package's).
 */
async function startEmulator({ args = [], configToml, binary } = {}) {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxauth-emulator-'));
  const command = ['emulator', '--addr', '127.0.0.1:0', '--ready-json', '--keep-requests', '1000', '--export-config', workdir];
  if (configToml !== undefined) {
    const file = path.join(workdir, 'world.toml');
    fs.writeFileSync(file, configToml);
    command.push('--config', file);
  }
  command.push(...args);
  const child = spawn(binary || binaryPath(), command, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const lines = readline.createInterface({ input: child.stdout });
  const ready = await new Promise((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line)));
    child.once('error', reject);
    child.once('exit', (code) => reject(new EmulatorError(`the emulator exited (${code}) before it was ready: ${stderr.trim()}`)));
  }).catch((error) => {
    fs.rmSync(workdir, { recursive: true, force: true });
    throw error;
  });
  child.stdout.resume();
  child.unref();
  for (const stream of [child.stdout, child.stderr]) stream.unref?.();
  return new Emulator(ready, child, workdir);
}

/** An emulator already running at `url` (its base URL): credentials and JWT config from its control API. */
async function attachEmulator(url) {
  const base = url.replace(/\/+$/, '').replace(/\/__emulator$/, '');
  const world = await control(base, 'GET', 'world');
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxauth-emulator-'));
  const boxConfig = path.join(workdir, 'box_config.json');
  fs.writeFileSync(boxConfig, JSON.stringify(await control(base, 'GET', 'box-config')), { mode: 0o600 });
  const admin = world.users.find((u) => u.role === 'admin') || {};
  return new Emulator({
    base_url: world.base_url, oauth2_url: world.oauth2_url, client_id: world.app.client_id,
    client_secret: world.app.client_secret, enterprise_id: world.enterprise_id,
    admin_user_id: admin.id, admin_login: admin.login, box_config: boxConfig,
  }, null, workdir);
}

module.exports = { Emulator, EmulatorError, attachEmulator, binaryPath, startEmulator };
