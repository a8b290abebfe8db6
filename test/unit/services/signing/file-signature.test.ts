import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatKeyId, generateSigningKeyPair } from '../../../../electron/services/signing/ed25519-keys';
import { decodePublicKey, encodePublicKey } from '../../../../electron/services/signing/minisign-format';
import { checkSignature, digestFileForSigning, signFile } from '../../../../electron/services/signing/file-signature';
import { parseTrustedComment } from '../../../../electron/services/signing/trusted-comment';
import { decodeSecretKeyFile, encodeSecretKeyFile, secretKeyNeedsPassphrase } from '../../../../electron/services/signing/secret-key-file';
import { makeTempDir } from '../../../support/temp-dir';
import { makeTestPackage } from '../../../support/packages';

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => (temp = makeTempDir()));
afterEach(() => temp.cleanup());

function minisignVerify(file: string, pubFile: string, sigFile: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('minisign', ['-V', '-H', '-m', file, '-p', pubFile, '-x', sigFile], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('minisign-compatible signatures', () => {
  it('signs a package so that the real minisign verifies it, with name, version and sha256 in the trusted comment', async () => {
    const pkg = await makeTestPackage(temp.dir, { name: 'vision/quokka', version: '1.2.3' });
    const pair = generateSigningKeyPair();
    const pubFile = path.join(temp.dir, 'key.pub');
    writeFileSync(pubFile, encodePublicKey(pair));
    const sigFile = `${pkg}.minisig`;
    writeFileSync(sigFile, await signFile(pkg, pair));

    const result = minisignVerify(pkg, pubFile, sigFile);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Signature and comment signature verified');
    const sha256 = execFileSync('sha256sum', [pkg], { encoding: 'utf8' }).split(' ')[0];
    const claims = parseTrustedComment(/Trusted comment: (.*)/.exec(result.stdout)?.[1] ?? '');
    expect(claims).toMatchObject({ name: 'vision/quokka', version: '1.2.3', sha256 });
    expect(readFileSync(pubFile, 'utf8')).toContain(`minisign public key ${formatKeyId(pair.keyId)}`);
  });

  it('minisign rejects our signature once the file or the trusted comment changes', async () => {
    const file = path.join(temp.dir, 'blob.bin');
    writeFileSync(file, Buffer.alloc(100_000, 7));
    const pair = generateSigningKeyPair();
    const pubFile = path.join(temp.dir, 'key.pub');
    writeFileSync(pubFile, encodePublicKey(pair));
    const signature = await signFile(file, pair);
    const sigFile = path.join(temp.dir, 'blob.minisig');
    writeFileSync(sigFile, signature.replace(/trusted comment: timestamp:\d+/, 'trusted comment: timestamp:1'));
    expect(minisignVerify(file, pubFile, sigFile).status).not.toBe(0);
    writeFileSync(sigFile, signature);
    writeFileSync(file, Buffer.alloc(100_000, 8));
    expect(minisignVerify(file, pubFile, sigFile).status).not.toBe(0);
  });

  it('verifies signatures made by minisign -S with a key from minisign -G -W, and rejects a tampered file', async () => {
    const pubFile = path.join(temp.dir, 'm.pub');
    const keyFile = path.join(temp.dir, 'm.key');
    execFileSync('minisign', ['-G', '-W', '-p', pubFile, '-s', keyFile], { stdio: 'ignore' });
    const file = path.join(temp.dir, 'data.bin');
    writeFileSync(file, Buffer.alloc(300_000, 3));
    execFileSync('minisign', ['-S', '-s', keyFile, '-m', file, '-t', 'name:x\tversion:1.0.0'], { stdio: 'ignore' });
    const signature = readFileSync(`${file}.minisig`, 'utf8');
    const key = decodePublicKey(readFileSync(pubFile, 'utf8'));

    const good = checkSignature(signature, [key], await digestFileForSigning(file));
    expect(good).toMatchObject({ valid: true, claims: { name: 'x', version: '1.0.0' } });

    writeFileSync(file, Buffer.alloc(300_000, 4));
    expect(checkSignature(signature, [key], await digestFileForSigning(file))).toMatchObject({ valid: false, reason: 'bad-signature' });
    expect(checkSignature(signature, [generateSigningKeyPair()], await digestFileForSigning(file))).toMatchObject({ valid: false, reason: 'unknown-key' });
  });

  it('rejects a signature moved to another version of the package, even a byte-identical one', async () => {
    const pair = generateSigningKeyPair();
    const pkg = await makeTestPackage(temp.dir, { name: 'demo', version: '1.0.0' });
    const signature = await signFile(pkg, pair);
    const digests = await digestFileForSigning(pkg);
    const asOther = checkSignature(signature, [pair], digests, { name: 'demo', version: '2.0.0', sha256: digests.sha256, strict: true });
    expect(asOther).toMatchObject({ valid: false, reason: 'claims-mismatch' });
    expect(checkSignature(signature, [pair], digests, { name: 'demo', version: '1.0.0', sha256: `sha256:${digests.sha256}`, strict: true })).toMatchObject({ valid: true });
    // A comment with no name cannot be bound under the strict rule.
    const loose = signature.replace(/\tname:[^\t]*\tversion:[^\t]*/, '');
    expect(checkSignature(loose, [pair], digests, { name: 'demo', version: '1.0.0', strict: true })).toMatchObject({ valid: false });
  });
});

describe('secret key file', () => {
  it('round-trips with a passphrase and refuses a wrong one or none', async () => {
    const pair = generateSigningKeyPair();
    const text = await encodeSecretKeyFile(pair, 'correct horse', { log2N: 12, r: 8, p: 1 });
    expect(secretKeyNeedsPassphrase(text)).toBe(true);
    const back = await decodeSecretKeyFile(text, 'correct horse');
    expect(back.seed.equals(pair.seed) && back.keyId.equals(pair.keyId)).toBe(true);
    await expect(decodeSecretKeyFile(text, 'wrong')).rejects.toMatchObject({ code: 'UNAUTHORIZED', reason: 'bad-passphrase' });
    await expect(decodeSecretKeyFile(text, null)).rejects.toMatchObject({ reason: 'passphrase-required' });
    expect(text).not.toContain(pair.seed.toString('base64'));
  });

  it('detects a changed byte even without a passphrase', async () => {
    const pair = generateSigningKeyPair();
    const text = await encodeSecretKeyFile(pair, null);
    expect(secretKeyNeedsPassphrase(text)).toBe(false);
    expect((await decodeSecretKeyFile(text, null)).seed.equals(pair.seed)).toBe(true);
    const lines = text.split('\n');
    const bytes = Buffer.from(lines[1] ?? '', 'base64');
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 1;
    await expect(decodeSecretKeyFile(`${lines[0]}\n${bytes.toString('base64')}\n`, null)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
