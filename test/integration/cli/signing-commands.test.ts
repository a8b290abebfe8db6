import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess, type CliResult } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';
import { runOnPty } from '../../support/pty';

let work: string;
let cleanup: () => void;
let pkg: string;

beforeAll(async () => {
  ({ dir: work, cleanup } = makeTempDir());
  pkg = await makeTestPackage(work, { name: 'vision/quokka', version: '1.2.3' });
  writeFileSync(path.join(work, 'pass.txt'), 'key passphrase\n');
});
afterAll(() => cleanup());

function cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const env = { ...process.env, ...extra };
  delete env.TORSH_DEPOT_KEY_PASSPHRASE;
  return runCliProcess(args, { ...env, ...extra }, 60_000);
}

function at(name: string): string {
  return path.join(work, name);
}

function expectOneLineFailure(result: CliResult, command: string): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^torsh-depot ${command}: `));
}

describe('keygen, sign, verify', () => {
  it('generates a passphrase-protected 0600 key and a minisign public key; never overwrites', async () => {
    const result = await cli(['keygen', '-o', at('alice'), '--passphrase-file', at('pass.txt')]);
    expect(result.code, result.stderr).toBe(0);
    const keyId = /generated key ([0-9A-F]{16})/.exec(result.stdout)?.[1];
    expect(keyId).toBeDefined();
    expect(statSync(at('alice.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(at('alice.pub'), 'utf8')).toMatch(new RegExp(`^untrusted comment: minisign public key ${keyId}\\n[A-Za-z0-9+/=]{56}\\n$`));
    expect(readFileSync(at('alice.key'), 'utf8')).not.toContain('key passphrase');
    const again = await cli(['keygen', '-o', at('alice'), '--no-passphrase']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    const noSource = await cli(['keygen', '-o', at('nobody')]);
    expect(noSource.code).toBe(2);
    expect(existsSync(at('nobody.key'))).toBe(false);
  });

  it('signs with the passphrase from the environment; minisign and our verify accept it', async () => {
    const signed = await cli(['sign', pkg, '--key', at('alice.key')], { TORSH_DEPOT_KEY_PASSPHRASE: 'key passphrase' });
    expect(signed.code, signed.stderr).toBe(0);
    const sigFile = `${pkg}.minisig`;
    expect(readFileSync(sigFile, 'utf8')).toMatch(/\ntrusted comment: timestamp:\d+\tname:vision\/quokka\tversion:1\.2\.3\tsha256:[0-9a-f]{64}\n/);
    const minisign = spawnSync('minisign', ['-V', '-H', '-m', pkg, '-p', at('alice.pub')], { encoding: 'utf8' });
    expect(minisign.status, minisign.stderr).toBe(0);
    const verified = await cli(['verify', pkg, '--pubkey', at('alice.pub')]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('valid signature by key');
  });

  it('refuses a wrong passphrase with one line and writes no signature', async () => {
    writeFileSync(at('wrong.txt'), 'not it\n');
    const result = await cli(['sign', pkg, '--key', at('alice.key'), '--passphrase-file', at('wrong.txt'), '-o', at('never.minisig')]);
    expectOneLineFailure(result, 'sign');
    expect(result.stderr).toContain('Wrong passphrase');
    expect(existsSync(at('never.minisig'))).toBe(false);
  });

  it('exits 1 for another key, a changed file, or an altered trusted comment', async () => {
    expect((await cli(['keygen', '-o', at('mallory'), '--no-passphrase'])).code).toBe(0);
    expectOneLineFailure(await cli(['verify', pkg, '--pubkey', at('mallory.pub')]), 'verify');

    const copy = at('copy.torshpkg');
    const bytes = readFileSync(pkg);
    bytes[bytes.length - 30] = (bytes[bytes.length - 30] ?? 0) ^ 1;
    writeFileSync(copy, bytes);
    expectOneLineFailure(await cli(['verify', copy, '--pubkey', at('alice.pub'), '--sig', `${pkg}.minisig`]), 'verify');

    const forged = readFileSync(`${pkg}.minisig`, 'utf8').replace('version:1.2.3', 'version:9.9.9');
    writeFileSync(at('forged.minisig'), forged);
    const result = await cli(['verify', pkg, '--pubkey', at('alice.pub'), '--sig', at('forged.minisig')]);
    expectOneLineFailure(result, 'verify');
    expect(result.stderr).toContain('trusted comment');
  });

  it('verifies a signature made by minisign -S, and rejects one whose trusted comment names another version', async () => {
    execFileSync('minisign', ['-G', '-W', '-p', at('m.pub'), '-s', at('m.key')], { stdio: 'ignore' });
    execFileSync('minisign', ['-S', '-s', at('m.key'), '-m', pkg, '-x', at('m.minisig')], { stdio: 'ignore' });
    const ok = await cli(['verify', pkg, '--pubkey', at('m.pub'), '--sig', at('m.minisig')]);
    expect(ok.code, ok.stderr).toBe(0);
    execFileSync('minisign', ['-S', '-s', at('m.key'), '-m', pkg, '-x', at('other.minisig'), '-t', 'name:vision/quokka\tversion:2.0.0'], { stdio: 'ignore' });
    const moved = await cli(['verify', pkg, '--pubkey', at('m.pub'), '--sig', at('other.minisig')]);
    expectOneLineFailure(moved, 'verify');
    expect(moved.stderr).toContain('version 2.0.0, not 1.2.3');
  });
});

describe('encrypt, decrypt', () => {
  const plain = randomBytes(300_000);
  beforeAll(() => {
    writeFileSync(at('plain.bin'), plain);
    writeFileSync(at('secret.txt'), 'file passphrase\n');
    writeFileSync(at('bad-secret.txt'), 'guess\n');
  });

  it('round-trips with AES-256-GCM by default; a wrong passphrase exits 1 and writes nothing', async () => {
    const encrypted = await cli(['encrypt', at('plain.bin'), '-o', at('plain.enc'), '--passphrase-file', at('secret.txt')]);
    expect(encrypted.code, encrypted.stderr).toBe(0);
    expect(readFileSync(at('plain.enc')).subarray(0, 8).toString()).toBe('TORSHENC');
    const decrypted = await cli(['decrypt', at('plain.enc'), '-o', at('plain.out'), '--passphrase-file', at('secret.txt')]);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(readFileSync(at('plain.out')).equals(plain)).toBe(true);
    const before = readdirSync(work).sort();
    const wrong = await cli(['decrypt', at('plain.enc'), '-o', at('wrong.out'), '--passphrase-file', at('bad-secret.txt')]);
    expectOneLineFailure(wrong, 'decrypt');
    expect(readdirSync(work).sort()).toEqual(before);
  });

  it('a truncated file exits 1 and leaves no output', async () => {
    writeFileSync(at('cut.enc'), readFileSync(at('plain.enc')).subarray(0, 200_000));
    const result = await cli(['decrypt', at('cut.enc'), '-o', at('cut.out'), '--passphrase-file', at('secret.txt')]);
    expectOneLineFailure(result, 'decrypt');
    expect(result.stderr).toContain('tampered');
    expect(existsSync(at('cut.out'))).toBe(false);
  });

  it('writes age files to a recipient that age -d reads, and reads what age -r writes', async () => {
    execFileSync('age-keygen', ['-o', at('id.txt')], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', at('id.txt')], { encoding: 'utf8' }).trim();
    const encrypted = await cli(['encrypt', at('plain.bin'), '-o', at('plain.age'), '--recipient', recipient]);
    expect(encrypted.code, encrypted.stderr).toBe(0);
    execFileSync('age', ['-d', '-i', at('id.txt'), '-o', at('by-age.out'), at('plain.age')]);
    expect(readFileSync(at('by-age.out')).equals(plain)).toBe(true);

    execFileSync('age', ['-r', recipient, '-o', at('from-age.age'), at('plain.bin')]);
    const decrypted = await cli(['decrypt', at('from-age.age'), '-o', at('from-age.out'), '--identity', at('id.txt')]);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(readFileSync(at('from-age.out')).equals(plain)).toBe(true);
  });

  it('encrypts with a passphrase as age (chacha20-poly1305) so that age -d decrypts it on a terminal', async () => {
    const encrypted = await cli(['encrypt', at('plain.bin'), '-o', at('pass.age'), '--algorithm', 'chacha20-poly1305', '--passphrase-file', at('secret.txt')]);
    expect(encrypted.code, encrypted.stderr).toBe(0);
    const run = await runOnPty(['age', '-d', '-o', at('pass-by-age.out'), at('pass.age')], 'file passphrase\n');
    expect(run.code, run.output).toBe(0);
    expect(readFileSync(at('pass-by-age.out')).equals(plain)).toBe(true);
  }, 60_000);

  it('rejects bad combinations as usage errors', async () => {
    expect((await cli(['encrypt', at('plain.bin'), '-o', at('x'), '--algorithm', 'aes-256-gcm', '--recipient', 'age1xyz'])).code).toBe(2);
    expect((await cli(['encrypt', at('plain.bin'), '-o', at('x')])).code).toBe(2);
    expect((await cli(['decrypt', at('plain.enc'), '-o', at('x'), '--passphrase-file', at('secret.txt'), '--identity', at('id.txt')])).code).toBe(2);
    expect(existsSync(at('x'))).toBe(false);
  });
});
