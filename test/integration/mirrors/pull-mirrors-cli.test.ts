import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirrorIndexFormat, type MirrorIndex } from '../../../shared/domain/mirrors';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import { signDigests } from '../../../electron/services/signing/file-signature';
import { encodePublicKey } from '../../../electron/services/signing/minisign-format';
import { mirrorRankCommand } from '../../../electron/cli/commands/mirror-rank-command';
import type { CliIo } from '../../../electron/cli/cli-io';
import { runCliProcess } from '../../support/cli-process';
import { startNginx, type RunningNginx as NginxServer } from '../../support/nginx-server';
import { makeTempDir } from '../../support/temp-dir';

interface Version {
  version: string;
  bytes: Buffer;
  yanked: boolean;
}

const versions: Version[] = [
  { version: '1.0.0', bytes: randomBytes(1024 * 1024), yanked: false },
  { version: '1.1.0', bytes: randomBytes(3 * 1024 * 1024 + 7), yanked: false },
  { version: '1.2.0', bytes: randomBytes(1024), yanked: true },
];
const temp = makeTempDir('torsh-depot-pull-mirrors-');
const servers: NginxServer[] = [];
const registryKey: SigningKeyPair = generateSigningKeyPair();
let mirrorsFile: string;

function blobPath(version: string): string {
  return `packages/demo/${version}/demo-${version}.torshpkg`;
}

/** A mirror folder as `mirror sync` lays it out: blobs, a signed index.json, registry.pub. */
function writeMirror(root: string, options: { only?: string[]; sign?: SigningKeyPair | null }): void {
  const held = versions.filter((entry) => options.only === undefined || options.only.includes(entry.version));
  for (const entry of held) {
    mkdirSync(path.join(root, path.dirname(blobPath(entry.version))), { recursive: true });
    writeFileSync(path.join(root, blobPath(entry.version)), entry.bytes);
  }
  const index: MirrorIndex = {
    format: mirrorIndexFormat,
    serial: held.length,
    generated_at: new Date().toISOString(),
    registry: null,
    key_id: null,
    versions: held.map((entry) => ({
      name: 'demo',
      version: entry.version,
      size: entry.bytes.length,
      sha256: createHash('sha256').update(entry.bytes).digest('hex'),
      blake2b: null,
      yanked: entry.yanked,
      signature: false,
      path: blobPath(entry.version),
    })),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  writeFileSync(path.join(root, 'index.json'), bytes);
  if (options.sign) {
    const digests = { blake2b512: createHash('blake2b512').update(bytes).digest(), sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    writeFileSync(path.join(root, 'index.json.minisig'), signDigests(options.sign, digests, null, 'index.json'));
    writeFileSync(path.join(root, 'registry.pub'), encodePublicKey(options.sign));
  }
}

beforeAll(async () => {
  const layouts: Array<{ id: string; only?: string[]; sign: SigningKeyPair | null }> = [
    { id: 'eu', sign: registryKey },
    { id: 'us', sign: registryKey },
    { id: 'stale', only: ['1.0.0'], sign: registryKey },
    { id: 'unsigned', sign: null },
    { id: 'forged', sign: generateSigningKeyPair() },
  ];
  for (const layout of layouts) {
    const root = path.join(temp.dir, layout.id);
    writeMirror(root, layout);
    servers.push(await startNginx({ root }));
  }
  writeFileSync(path.join(temp.dir, 'registry.pub'), encodePublicKey(registryKey));
  const regions = ['eu-central-1', 'us-east-1', 'eu-west-1', 'eu-west-2', 'eu-west-3'];
  mirrorsFile = path.join(temp.dir, 'mirrors.yaml');
  writeFileSync(
    mirrorsFile,
    [
      'mirrors:',
      '  selection_strategy: geographic',
      '  trusted_keys: [ ./registry.pub ]',
      '  failover: { max_retries: 2, retry_delay: 100ms, stall_timeout: 3s, min_rate: 1KiB }',
      '  list:',
      ...layouts.map((layout, index) => `    - { id: ${layout.id}, url: "${servers[index]?.url ?? ''}", region: ${regions[index] ?? ''} }`),
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  temp.cleanup();
});

function inProcessIo(): { io: CliIo; stdout: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { io: { stdout, stderr: new PassThrough(), env: {}, stopSignal: new Promise<string>(() => undefined) }, stdout: () => text };
}

describe('pull --mirrors', () => {
  it('resolves the range from the signed indexes and downloads from several mirrors, verified', async () => {
    const out = path.join(temp.dir, 'out');
    mkdirSync(out, { recursive: true });
    const result = await runCliProcess(['pull', 'demo@^1', '--mirrors', mirrorsFile, '--region', 'eu-central-1', '-o', out], { ...process.env, TORSH_DEPOT_REGISTRY: '' }, 60_000);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    // ^1 skips the yanked 1.2.0.
    expect(result.stdout).toMatch(/^pulled demo@1\.1\.0: .*demo-1\.1\.0\.torshpkg \(3\.0 MiB, sha256:[0-9a-f]{64}, from /);
    expect(readFileSync(path.join(out, 'demo-1.1.0.torshpkg')).equals(versions[1]?.bytes ?? Buffer.alloc(0))).toBe(true);
    // Plain lines (not a TTY): progress by tenths on stderr.
    expect(result.stderr).toMatch(/demo@1\.1\.0: 100% /);
  });

  it('--json prints the plan and every event as one JSON object per line', async () => {
    const dest = path.join(temp.dir, 'json', 'demo.torshpkg');
    const result = await runCliProcess(['pull', 'demo@1.0.0', '--mirrors', mirrorsFile, '--json', '-o', dest], { ...process.env, TORSH_DEPOT_REGISTRY: '' }, 60_000);
    expect(result.code).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; ranking?: Array<{ id: string; eligible: boolean; reason: string }>; result?: { mirror: string } });
    expect(events[0]?.type).toBe('plan');
    const skipped = Object.fromEntries((events[0]?.ranking ?? []).filter((entry) => !entry.eligible).map((entry) => [entry.id, entry.reason]));
    expect(skipped.unsigned).toMatch(/no index.json.minisig/);
    expect(skipped.forged).toMatch(/not the given public key|not .*trusted/);
    expect(skipped.stale).toBeUndefined(); // 1.0.0 is on the stale mirror too
    expect(events.at(-1)?.type).toBe('done');
    expect(readFileSync(dest).equals(versions[0]?.bytes ?? Buffer.alloc(0))).toBe(true);
  });

  it('refuses when no index verifies with the trusted keys, and on a bad strategy or region', async () => {
    const otherKey = path.join(temp.dir, 'other.pub');
    writeFileSync(otherKey, encodePublicKey(generateSigningKeyPair()));
    const lone = path.join(temp.dir, 'lone.yaml');
    writeFileSync(lone, `selection_strategy: priority\ntrusted_keys: [ ./other.pub ]\nlist:\n  - { id: eu, url: "${servers[0]?.url ?? ''}" }\n`);
    const refused = await runCliProcess(['pull', 'demo@1.0.0', '--mirrors', lone, '-o', path.join(temp.dir, 'never.torshpkg')], { ...process.env, TORSH_DEPOT_REGISTRY: '' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/No mirror has a verified index/);
    const badStrategy = await runCliProcess(['pull', 'demo@1.0.0', '--mirrors', mirrorsFile, '--strategy', 'fastest']);
    expect(badStrategy.code).toBe(2);
    expect(badStrategy.stderr).toMatch(/--strategy must be one of geographic, priority/);
    const badRegion = await runCliProcess(['pull', 'demo@1.0.0', '--mirrors', mirrorsFile, '--region', 'atlantis-1']);
    expect(badRegion.code).toBe(2);
    expect(badRegion.stderr).toMatch(/"atlantis-1" is not a known region/);
  });
});

describe('mirror rank', () => {
  it('prints the places with their reasons, nearest first for the client region', async () => {
    const { io, stdout } = inProcessIo();
    expect(await mirrorRankCommand(['demo@1.1.0', '--mirrors', mirrorsFile, '--region', 'us-east4'], io)).toBe(0);
    const lines = stdout().trim().split('\n');
    expect(lines[0]).toBe('demo@1.1.0 — strategy geographic, client region us-east4');
    expect(lines[2]).toMatch(/^ {4}1 {2}us {4}\s*\d[\d,]* km from us-east4 \(us-east-1\)$/);
    expect(lines[3]).toMatch(/^ {4}2 {2}eu\s+\d[\d,]* km from us-east4 \(eu-central-1\)$/);
    expect(stdout()).toMatch(/- {2}stale\s+skipped: its index lacks this version/);
    expect(stdout()).toMatch(/- {2}unsigned\s+skipped: index not usable: .*no index.json.minisig/);

    const json = inProcessIo();
    expect(await mirrorRankCommand(['demo@1.1.0', '--mirrors', mirrorsFile, '--strategy', 'weighted', '--seed', '7', '--json'], json.io)).toBe(0);
    const parsed = JSON.parse(json.stdout()) as { strategy: string; ranking: Array<{ id: string; place: number | null }> };
    expect(parsed.strategy).toBe('weighted');
    expect(parsed.ranking.filter((entry) => entry.place !== null).map((entry) => entry.id).sort()).toEqual(['eu', 'us']);
  });
});
