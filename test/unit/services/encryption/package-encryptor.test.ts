import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PackageEncryptor } from '../../../../electron/services/encryption/package-encryptor';
import { segmentSize } from '../../../../electron/services/encryption/segment-stream';
import { aesHeaderLength } from '../../../../electron/services/encryption/aes-gcm-header';
import { formatAgeIdentityFile, generateAgeIdentity, parseAgeIdentities } from '../../../../electron/services/encryption/x25519-keys';
import { bech32Decode, bech32Encode } from '../../../../electron/services/encryption/bech32';
import { makeTempDir } from '../../../support/temp-dir';
import { runOnPty } from '../../../support/pty';
import { caught } from '../../../support/depot-errors';

// Cheap KDFs: the format is what is under test, not the work factor.
const encryptor = new PackageEncryptor({ scryptParams: { log2N: 10, r: 8, p: 1 }, ageScryptLog2N: 10 });
const sealed = segmentSize + 16;

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => (temp = makeTempDir()));
afterEach(() => temp.cleanup());

function file(name: string, content?: Buffer): string {
  const target = path.join(temp.dir, name);
  if (content) writeFileSync(target, content);
  return target;
}

/** Only the named files exist: no plaintext and no temp file left behind. */
function expectOnly(...names: string[]): void {
  expect(readdirSync(temp.dir).sort()).toEqual([...names].sort());
}

describe('AES-256-GCM stream format', () => {
  it.each([0, 1, segmentSize - 1, segmentSize, segmentSize + 1, 3 * segmentSize, 200_001])('round-trips %i bytes', async (length) => {
    const plain = randomBytes(length);
    const input = file('in', plain);
    await encryptor.encryptFile(input, file('in.enc'), { passphrase: 'hunter2' });
    const encrypted = readFileSync(file('in.enc'));
    expect(encrypted.subarray(0, 8).toString()).toBe('TORSHENC');
    const segments = Math.max(1, Math.ceil(length / segmentSize));
    expect(encrypted.length).toBe(aesHeaderLength + length + 16 * segments);
    const result = await encryptor.decryptFile(file('in.enc'), file('out'), { passphrase: 'hunter2' });
    expect(result).toEqual({ size: length, algorithm: 'aes-256-gcm' });
    expect(readFileSync(file('out')).equals(plain)).toBe(true);
  });

  it('never reuses a key and nonce: two encryptions of the same file differ everywhere', async () => {
    const input = file('in', Buffer.alloc(1000));
    await encryptor.encryptFile(input, file('a'), { passphrase: 'p' });
    await encryptor.encryptFile(input, file('b'), { passphrase: 'p' });
    expect(readFileSync(file('a')).subarray(14).equals(readFileSync(file('b')).subarray(14))).toBe(false);
  });

  describe('tampering', () => {
    const plain = randomBytes(3 * segmentSize + 100);
    let encrypted: Buffer;
    beforeEach(async () => {
      await encryptor.encryptFile(file('in', plain), file('in.enc'), { passphrase: 'right' });
      encrypted = readFileSync(file('in.enc'));
    });

    async function expectRejected(bytes: Buffer, passphrase: string, code: string): Promise<void> {
      writeFileSync(file('bad.enc'), bytes);
      await expect(encryptor.decryptFile(file('bad.enc'), file('out'), { passphrase })).rejects.toMatchObject({ code });
      expectOnly('in', 'in.enc', 'bad.enc');
    }

    it('wrong passphrase', () => expectRejected(encrypted, 'wrong', 'UNAUTHORIZED'));
    it('a flipped payload byte', () => {
      const copy = Buffer.from(encrypted);
      copy[aesHeaderLength + sealed + 5] = (copy[aesHeaderLength + sealed + 5] ?? 0) ^ 0x40;
      return expectRejected(copy, 'right', 'DIGEST_MISMATCH');
    });
    it('a flipped header byte (base nonce)', () => {
      const copy = Buffer.from(encrypted);
      copy[35] = (copy[35] ?? 0) ^ 1;
      return expectRejected(copy, 'right', 'UNAUTHORIZED');
    });
    it('truncated at a segment boundary', () => expectRejected(encrypted.subarray(0, aesHeaderLength + 2 * sealed), 'right', 'DIGEST_MISMATCH'));
    it('truncated inside a segment', () => expectRejected(encrypted.subarray(0, encrypted.length - 7), 'right', 'DIGEST_MISMATCH'));
    it('truncated to the header', () => expectRejected(encrypted.subarray(0, aesHeaderLength), 'right', 'DIGEST_MISMATCH'));
    it('a segment appended', () => expectRejected(Buffer.concat([encrypted, encrypted.subarray(aesHeaderLength, aesHeaderLength + sealed)]), 'right', 'DIGEST_MISMATCH'));
    it('two segments swapped', () => {
      const first = encrypted.subarray(aesHeaderLength, aesHeaderLength + sealed);
      const second = encrypted.subarray(aesHeaderLength + sealed, aesHeaderLength + 2 * sealed);
      return expectRejected(Buffer.concat([encrypted.subarray(0, aesHeaderLength), second, first, encrypted.subarray(aesHeaderLength + 2 * sealed)]), 'right', 'DIGEST_MISMATCH');
    });
    it('an existing output file is kept as it was when decryption fails', async () => {
      writeFileSync(file('out'), 'previous');
      const copy = Buffer.from(encrypted);
      copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 1;
      writeFileSync(file('bad.enc'), copy);
      await expect(encryptor.decryptFile(file('bad.enc'), file('out'), { passphrase: 'right' })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
      expect(readFileSync(file('out'), 'utf8')).toBe('previous');
    });
  });
});

describe('age v1 (chacha20-poly1305) interoperability with the real age', () => {
  it('bech32 round-trips and rejects a changed character', () => {
    const data = randomBytes(32);
    const text = bech32Encode('age', data);
    expect(bech32Decode(text)?.data.equals(data)).toBe(true);
    const broken = text.slice(0, -1) + (text.endsWith('q') ? 'p' : 'q');
    expect(bech32Decode(broken)).toBeNull();
  });

  it('reads identities made by age-keygen and derives the same recipient', () => {
    const identityFile = file('id.txt');
    execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim();
    expect(parseAgeIdentities(readFileSync(identityFile, 'utf8'))[0]?.recipient).toBe(recipient);
  });

  it('age -d -i decrypts what we encrypt to an X25519 recipient', async () => {
    const identity = generateAgeIdentity();
    writeFileSync(file('id.txt'), formatAgeIdentityFile(identity));
    const plain = randomBytes(2 * segmentSize + 17);
    const result = await encryptor.encryptFile(file('in', plain), file('in.age'), { recipients: [identity.recipient] });
    expect(result.algorithm).toBe('chacha20-poly1305');
    execFileSync('age', ['-d', '-i', file('id.txt'), '-o', file('out'), file('in.age')]);
    expect(readFileSync(file('out')).equals(plain)).toBe(true);
  });

  it.each([0, segmentSize, 150_000])('we decrypt what age -r encrypts (%i bytes), and refuse a wrong identity', async (length) => {
    const identityFile = file('id.txt');
    execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim();
    const plain = randomBytes(length);
    execFileSync('age', ['-r', recipient, '-o', file('in.age'), file('in', plain)]);
    const identities = parseAgeIdentities(readFileSync(identityFile, 'utf8'));
    await encryptor.decryptFile(file('in.age'), file('out'), { identities });
    expect(readFileSync(file('out')).equals(plain)).toBe(true);
    await expect(encryptor.decryptFile(file('in.age'), file('out2'), { identities: [generateAgeIdentity()] })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(existsSync(file('out2'))).toBe(false);
  });

  it('age -d decrypts our passphrase (scrypt) files, through a terminal', async () => {
    const plain = randomBytes(100_000);
    await encryptor.encryptFile(file('in', plain), file('in.age'), { algorithm: 'chacha20-poly1305', passphrase: 'open sesame' });
    expect(readFileSync(file('in.age')).toString('latin1')).toMatch(/^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 10\n/);
    const run = await runOnPty(['age', '-d', '-o', file('out'), file('in.age')], 'open sesame\n');
    expect(run.code, run.output).toBe(0);
    expect(readFileSync(file('out')).equals(plain)).toBe(true);
  });

  it('we decrypt age -p files, and a wrong passphrase leaves no output', async () => {
    const plain = randomBytes(70_000);
    const run = await runOnPty(['age', '-p', '-o', file('in.age'), file('in', plain)], 'open sesame\nopen sesame\n');
    expect(run.code, run.output).toBe(0);
    await encryptor.decryptFile(file('in.age'), file('out'), { passphrase: 'open sesame' });
    expect(readFileSync(file('out')).equals(plain)).toBe(true);
    await expect(encryptor.decryptFile(file('in.age'), file('out2'), { passphrase: 'nope' })).rejects.toMatchObject({ code: 'UNAUTHORIZED', reason: 'bad-passphrase' });
    expect(existsSync(file('out2'))).toBe(false);
  }, 60_000);

  it('detects a flipped payload byte, a changed header and truncation in age files', async () => {
    const identity = generateAgeIdentity();
    await encryptor.encryptFile(file('in', randomBytes(2 * segmentSize)), file('in.age'), { recipients: [identity.recipient] });
    const good = readFileSync(file('in.age'));
    const headerEnd = good.indexOf('\n', good.indexOf('\n--- ') + 1) + 1;
    const variants: Array<[string, Buffer]> = [
      ['payload byte', Buffer.from(good).fill(good[good.length - 3]! ^ 1, good.length - 3, good.length - 2)],
      ['header byte', Buffer.concat([good.subarray(0, 30), Buffer.from([good[30]! === 0x41 ? 0x42 : 0x41]), good.subarray(31)])],
      ['truncated', good.subarray(0, headerEnd + 16 + sealed)],
    ];
    const seen: unknown[] = [];
    for (const [label, bytes] of variants) {
      writeFileSync(file('bad.age'), bytes);
      const error = await caught(encryptor.decryptFile(file('bad.age'), file('out'), { identities: [identity] }));
      seen.push({ label, code: error.code, reason: error.reason });
      expect(existsSync(file('out')), label).toBe(false);
    }
    // Each refusal says what went wrong: a changed stanza no longer opens with the identity.
    expect(seen).toEqual([
      { label: 'payload byte', code: 'DIGEST_MISMATCH', reason: 'ciphertext-tampered' },
      { label: 'header byte', code: 'UNAUTHORIZED', reason: 'no-matching-identity' },
      { label: 'truncated', code: 'DIGEST_MISMATCH', reason: 'ciphertext-tampered' },
    ]);
  });
});
