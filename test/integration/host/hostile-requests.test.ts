import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { stopAllServing } from '../../support/cli-process';
import { seededRandom } from '../../../bench/support/synthetic-registry';
import { adminKey, rawExchange, startServeHost, type RawAnswer, type ServeHost } from './serve-host';

// Real processes on a shared 2-core machine: generous per-test limits (each test still waits for answers, never sleeps for them).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * Issue 13 item 1: hostile requests against a real `torsh-depot serve` child. Every malformed
 * request is answered with a 4xx (or the connection is closed), never a 5xx, the process never
 * exits, and afterwards `/api/v1/health` answers and nothing the registry holds has changed.
 */

let t: ServeHost;
let before = '';

beforeAll(async () => {
  t = await startServeHost(['--idle-timeout', '3s']);
  expect((await t.publish({ name: 'fuzz/target', version: '1.0.0' })).status).toBe(201);
  expect((await t.publish({ name: 'fuzz-private', version: '1.0.0' })).status).toBe(201);
  expect((await t.call('PATCH', '/packages/fuzz-private', adminKey, { visibility: 'private' })).status).toBe(200);
  before = await t.stateDigest();
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await stopAllServing();
});

type Case = { label: string; bytes: Buffer[]; /** must be answered 4xx (else: any non-5xx answer, or a close) */ must4xx: boolean };

function buildCases(count: number, port: number, token: string): Case[] {
  // The same cases on every run, so a failure names a case that can be replayed.
  const random = seededRandom(13);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const host = `127.0.0.1:${port}`;
  const cookieName = `torsh_depot_session_${port}`;

  const badPaths = [
    '//', '///', '//api/v1/health', '/%', '/%zz', '/%E0%A4%A', '/api/v1/packages/%zz', '/api/v1/packages/%zz/1.0.0/download', '/api/v1/packages/a%00b',
    '/api/v1/packages/..%2f..%2fetc%2fpasswd/1.0.0', '/api/v1/packages/fuzz%2Ftarget/1.0.0/download', '/api/v1/packages/FUZZ/TARGET/1.0.0', '/api/v1/packages/fuzz/target/1.0.0/../../../x',
    '/api/v1/packages/a/b/c/d/e/f', '/api/v1/packages//1.0.0', '/api/v1/packages/fuzz/target/1.0.0%2f..%2f..%2fx/download', '/api/v1/resolve/%', '/api/v1/search?q=%zz&page=%',
    '/api/v1/search?page=-1', '/api/v1/search?per_page=99999999999999999999', '/api/v1/audit?limit=%', '/api/v1/keys/%zz', '/api/v1/users/%00/grants/%zz', '/metrics?%zz',
    '/ws', '/ws?token=%zz', `/ws?token=${token}%`, '/session/staging?filename=%zz', '/session/exports/%zz', '/assets/%2e%2e/%2e%2e/etc/passwd', '/..%5c..%5cwindows',
    `/${'a'.repeat(9000)}`, `/api/v1/packages/${'x'.repeat(5000)}/1.0.0`, '/\u00ff\u00fe', '*', 'http://evil.example/', 'api/v1/health', '/?token=%zz',
  ] as const;
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'G\u00c9T', 'get', 'BREW', ''] as const;
  const versions = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1x', '', 'HTTP/1'] as const;
  const hostHeaders = [`Host: ${host}`, 'Host: evil.example', `Host: ${host}:80`, 'Host: [::1', 'Host:', `Host: ${host}\r\nHost: evil.example`, 'Host: 127.0.0.1:99999', 'Host: \u00ff', ''] as const;
  const cookieHeaders = [
    `Cookie: ${cookieName}=%zz`, 'Cookie: torsh_depot_session=%zz', `Cookie: ${cookieName}=%`, `Cookie: ${cookieName}`, `Cookie: =; ;;=${token}`, `Cookie: ${cookieName}=${'%41'.repeat(2000)}`,
    `Cookie: ${cookieName}=${token}%ZZ`, `Cookie: ${cookieName}="${token}"`, 'Cookie: \u00ff=\u00fe', '',
  ] as const;
  const originHeaders = ['Origin: null', 'Origin: http://[', 'Origin: http://evil.example', `Origin: http://${host}`, 'Origin: %zz', 'Origin: ', ''] as const;
  const rangeHeaders = ['Range: bytes=abc', 'Range: bytes=-', 'Range: bytes=99999999999999999999999-', 'Range: bytes=5-1', 'Range: bytes=0-0,1-1,2-2', 'Range: items=0-1', 'Range: bytes=-0', 'Range: bytes=1e3-', 'If-Range: "x"\r\nRange: bytes=0-1', ''] as const;
  const authHeaders = ['Authorization: Bearer', 'Authorization: Bearer %zz', 'Authorization: Basic Zm9vOmJhcg==', `Authorization: Bearer ${'k'.repeat(4000)}`, 'Authorization: Bearer tdk_\u00ff', ''] as const;
  const otherHeaders = ['X-Forwarded-For: 1.2.3.4', 'X-Torsh-Metadata: {', 'X-Torsh-Encrypted: {"dependencies": 5}', 'X-Torsh-Metadata: %zz', 'Expect: 100-continue', 'Connection: Upgrade', 'Accept-Encoding: gzip;q=x', 'If-None-Match: *', ''] as const;

  const lineOf = (headers: string[]): string => headers.filter((header) => header !== '').map((header) => `${header}\r\n`).join('');
  const cases: Case[] = [];
  const add = (label: string, text: string | Buffer | Buffer[], must4xx: boolean): void => {
    const bytes = typeof text === 'string' ? [Buffer.from(text, 'latin1')] : Array.isArray(text) ? text : [text];
    cases.push({ label, bytes, must4xx });
  };

  while (cases.length < count) {
    const kind = Math.floor(random() * 10);
    const n = cases.length;
    if (kind === 0) {
      // Request lines: odd methods, versions, targets, control bytes, missing parts.
      const line = pick([
        `${pick(methods)} ${pick(badPaths)} ${pick(versions)}`,
        `${pick(methods)}  ${pick(badPaths)}`,
        `GET\t/api/v1/health\tHTTP/1.1`,
        `GET /api/v1/health HTTP/1.1 extra`,
        `\x00GET / HTTP/1.1`,
        `GET /api/v1/health\x7f HTTP/1.1`,
        randomBytes(1 + Math.floor(random() * 64)).toString('latin1'),
      ] as const);
      add(`request-line #${n}`, `${line}\r\nHost: ${host}\r\n\r\n`, false);
    } else if (kind === 1) {
      // Paths, `//`, percent-encoding, traversal, very long names, with the right Host.
      const path = pick(badPaths);
      const method = pick(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const);
      add(`path ${method} ${path.slice(0, 60)} #${n}`, `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${lineOf([pick(authHeaders), pick(cookieHeaders)])}Content-Length: 0\r\n\r\n`, path.startsWith('//') || path.startsWith('/%') || path === '*' || path === 'api/v1/health');
    } else if (kind === 2) {
      // Cookies, Host and Origin on the UI, the API and the socket.
      const path = pick(['/', '/index.html', '/api/v1/health', '/api/v1/packages/fuzz/target/1.0.0/download', '/ws', '/session/staging', '/metrics'] as const);
      const hostHeader = pick(hostHeaders);
      add(`headers ${path} #${n}`, `${pick(['GET', 'PUT', 'POST'] as const)} ${path} HTTP/1.1\r\n${lineOf([hostHeader, pick(cookieHeaders), pick(originHeaders), pick(otherHeaders)])}Content-Length: 0\r\n\r\n`, hostHeader !== `Host: ${host}` && hostHeader !== `Host: ${host}\r\nHost: evil.example`);
    } else if (kind === 3) {
      // Range on downloads (public and private, with and without a key).
      const name = pick(['fuzz/target', 'fuzz-private', 'missing'] as const);
      add(`range ${name} #${n}`, `${pick(['GET', 'HEAD'] as const)} /api/v1/packages/${name}/1.0.0/download HTTP/1.1\r\nHost: ${host}\r\n${lineOf([pick(rangeHeaders), pick(rangeHeaders), pick([`Authorization: Bearer ${adminKey}`, '', pick(authHeaders)])])}\r\n`, false);
    } else if (kind === 4) {
      // Content-Length that lies, conflicts, overflows or is negative, on every body-taking route.
      const length = pick(['-1', 'abc', '99999999999999999999999', '1, 2', '0x10', '5', '100000', ' 7', '1e3'] as const);
      const path = pick(['/api/v1/packages/fuzz/target/9.9.9', '/api/v1/packages/fuzz/target', '/api/v1/users', '/api/v1/packages/fuzz/target/1.0.0/signature', '/session/staging', `/session/staging?token=${token}`, '/api/v1/keys'] as const);
      const body = randomBytes(Math.floor(random() * 200));
      const duplicate = random() < 0.3 ? `Content-Length: ${Math.floor(random() * 50)}\r\n` : '';
      add(`content-length ${length} ${path} #${n}`, [Buffer.from(`${pick(['PUT', 'POST', 'PATCH'] as const)} ${path} HTTP/1.1\r\nHost: ${host}\r\n${lineOf([pick(authHeaders), `Authorization: Bearer ${adminKey}`].slice(0, 1 + Math.floor(random() * 2)).slice(-1))}Content-Length: ${length}\r\n${duplicate}\r\n`, 'latin1'), body], false);
    } else if (kind === 5) {
      // Chunked bodies: bad sizes, missing terminators, TE with CL, extensions, trailers.
      const chunked = pick([
        'zz\r\nabc\r\n0\r\n\r\n',
        'fffffffffffffffffff\r\nabc\r\n',
        '3\r\nabcdef\r\n0\r\n\r\n',
        '3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n',
        '-1\r\n\r\n',
        '3\r\nabc',
        '0\r\n\r\n',
        '3\nabc\n0\n\n',
        `${randomBytes(24).toString('latin1')}`,
      ] as const);
      const withLength = random() < 0.4 ? 'Content-Length: 10\r\n' : '';
      const te = pick(['Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, identity', 'Transfer-Encoding: xchunked', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked'] as const);
      const path = pick(['/api/v1/packages/fuzz/target/9.9.9', '/api/v1/users', '/session/staging', '/api/v1/packages/fuzz/target/1.0.0/signature'] as const);
      add(`chunked ${path} #${n}`, `PUT ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${adminKey}\r\n${te}\r\n${withLength}\r\n${chunked}`, false);
    } else if (kind === 6) {
      // WebSocket upgrades: bad paths (`//`), tokens, versions, keys, origins.
      const path = pick(['//', '/ws', '/ws?token=%zz', `/ws?token=${token}`, `/ws?token=${token}&token=%`, '/%zz', '/ws/../ws', '///ws'] as const);
      const key = pick([randomBytes(16).toString('base64'), '', 'not-base64!', randomBytes(40).toString('base64')]);
      const version = pick(['13', '8', '', 'abc', '13, 8'] as const);
      const headers = lineOf([pick(hostHeaders), 'Upgrade: websocket', pick(['Connection: Upgrade', 'Connection: keep-alive, Upgrade', 'Connection: close'] as const), `Sec-WebSocket-Key: ${key}`, version === '' ? '' : `Sec-WebSocket-Version: ${version}`, pick(originHeaders), pick(cookieHeaders)]);
      add(`upgrade ${path} #${n}`, `GET ${path} HTTP/1.1\r\n${headers}\r\n`, path === '//' || path === '///ws' || path === '/%zz');
    } else if (kind === 7) {
      // WebSocket frames after a valid handshake: reserved bits, bad opcodes, huge lengths, bad UTF-8, unmasked frames.
      const handshake = Buffer.from(`GET /ws?token=${token} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`, 'latin1');
      add(`frames #${n}`, [handshake, webSocketGarbage(random)], false);
    } else if (kind === 8) {
      // Header block abuse: no colon, folding, NUL, oversized headers, too many headers.
      const header = pick([
        'NoColonHere',
        ' folded: continuation',
        'X-Null: a\x00b',
        `X-Big: ${'b'.repeat(20_000)}`,
        Array.from({ length: 300 }, (_, index) => `X-H${index}: v`).join('\r\n'),
        'Content-Length: 1\r\nTransfer-Encoding: chunked',
        ': empty-name',
        `Host: ${host}\r\nHost: ${host}`,
      ] as const);
      add(`header-block #${n}`, `GET /api/v1/health HTTP/1.1\r\nHost: ${host}\r\n${header}\r\n\r\n`, false);
    } else {
      // Truncated or pipelined garbage after a good request.
      const good = `GET /api/v1/health HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
      add(`pipelined #${n}`, `${good}${pick(['GET // HTTP/1.1\r\n\r\n', randomBytes(32).toString('latin1'), 'PUT /api/v1/packages/x/1.0.0 HTTP/1.1\r\nContent-Length: 9999\r\n\r\nab', `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`] as const)}`, false);
    }
  }
  return cases;
}

/** One or more WebSocket frames, mostly broken, masked or not. */
function webSocketGarbage(random: () => number): Buffer {
  const frames: Buffer[] = [];
  const count = 1 + Math.floor(random() * 3);
  for (let index = 0; index < count; index += 1) {
    const style = Math.floor(random() * 6);
    if (style === 0) frames.push(randomBytes(1 + Math.floor(random() * 40)));
    else if (style === 1) frames.push(Buffer.from([0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])); // 2^64-1 byte text frame
    else if (style === 2) frames.push(Buffer.from([0x8f, 0x80, 1, 2, 3, 4])); // reserved opcode
    else if (style === 3) frames.push(Buffer.from([0xf1, 0x83, 0, 0, 0, 0, 0xff, 0xfe, 0xfd])); // RSV bits, invalid UTF-8
    else if (style === 4) frames.push(Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f])); // unmasked client frame
    else frames.push(maskedText(random() < 0.5 ? '{"id": 1, "channel": "app.health", "input": {}}' : '{"id": "x", "channel": 5}'));
  }
  return Buffer.concat(frames);
}

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, index) => byte ^ (mask[index % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

async function runAll(cases: Case[], concurrency: number): Promise<Array<{ item: Case; answer: RawAnswer }>> {
  const results: Array<{ item: Case; answer: RawAnswer }> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const item = cases[next];
      next += 1;
      if (!item) return;
      results.push({ item, answer: await rawExchange(t.port, item.bytes, { timeoutMs: 8_000 }) });
      if (t.serving.child.exitCode !== null || t.serving.child.signalCode !== null) throw new Error(`serve exited after ${item.label}: ${t.serving.output().stderr.slice(-2000)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

describe('hostile requests against torsh-depot serve', () => {
  it('answers the issue\'s two killers with 4xx and keeps serving', async () => {
    const host = `127.0.0.1:${t.port}`;
    // new WebSocket('ws://127.0.0.1:7878//') from any web page.
    const slashes = await rawExchange(t.port, Buffer.from(`GET // HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n`));
    expect(slashes.status).toBe(400);
    // A session cookie that is not valid percent-encoding, on a page, an API route and the socket.
    const cookie = `Cookie: torsh_depot_session_${t.port}=%zz; torsh_depot_session=%zz`;
    expect((await rawExchange(t.port, Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\n${cookie}\r\n\r\n`))).status).toBe(401);
    expect((await rawExchange(t.port, Buffer.from(`GET /api/v1/packages/fuzz-private/1.0.0/download HTTP/1.1\r\nHost: ${host}\r\n${cookie}\r\n\r\n`))).status).toBe(404);
    expect((await rawExchange(t.port, Buffer.from(`GET /ws HTTP/1.1\r\nHost: ${host}\r\n${cookie}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`))).status).toBe(401);
    expect((await rawExchange(t.port, Buffer.from(`GET //api/v1/health HTTP/1.1\r\nHost: ${host}\r\n\r\n`))).status).toBe(400);
    expect((await t.call('GET', '/health')).status).toBe(200);
  });

  it('survives 10,000 malformed requests: no 5xx, no exit, health answers, nothing changed', async () => {
    const cases = buildCases(10_000, t.port, t.token);
    const started = performance.now();
    const results = await runAll(cases, 24);
    const seconds = (performance.now() - started) / 1000;
    expect(results).toHaveLength(10_000);

    const serverErrors = results.filter(({ answer }) => answer.status !== null && answer.status >= 500);
    expect(serverErrors.map(({ item, answer }) => `${item.label}: ${answer.text.slice(0, 200)}`)).toEqual([]);
    const not4xx = results.filter(({ item, answer }) => item.must4xx && !(answer.status !== null && answer.status >= 400 && answer.status < 500));
    expect(not4xx.map(({ item, answer }) => `${item.label}: ${answer.status} ${answer.text.slice(0, 120)}`)).toEqual([]);
    // Hung connections would mean a handler that neither answered nor closed.
    const hung = results.filter(({ answer }) => !answer.closed && answer.status === null);
    expect(hung.map(({ item }) => item.label)).toEqual([]);
    const answered4xx = results.filter(({ answer }) => answer.status !== null && answer.status >= 400 && answer.status < 500).length;
    expect(answered4xx).toBeGreaterThan(5_000);

    expect(t.serving.child.exitCode).toBeNull();
    const health = await t.call('GET', '/health');
    expect(health.status).toBe(200);
    expect((health.body as { status: string }).status).toBe('ok');
    expect(await t.stateDigest()).toBe(before);
    console.log(`fuzz: 10000 hostile requests in ${seconds.toFixed(1)} s (${Math.round(10_000 / seconds)}/s); ${answered4xx} answered 4xx, ${results.filter(({ answer }) => answer.status === null).length} closed without an answer`);
  }, 600_000);
});
