import { describe, expect, it } from 'vitest';
import { encryptionFromChoice, noEncryption, passphraseStrength } from '../../../../../renderer/src/screens/packages/encrypt-on-publish';

const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

describe('the publish form\'s encryption choice', () => {
  it('sends nothing when not encrypting, a passphrase with its algorithm, or trimmed recipients', () => {
    expect(encryptionFromChoice(noEncryption)).toEqual({ ok: true, encrypt: undefined });
    expect(encryptionFromChoice({ ...noEncryption, mode: 'passphrase', algorithm: 'chacha20-poly1305', passphrase: 'long enough', confirmation: 'long enough' })).toEqual({
      ok: true,
      encrypt: { algorithm: 'chacha20-poly1305', passphrase: 'long enough' },
    });
    expect(encryptionFromChoice({ ...noEncryption, mode: 'recipients', recipients: `  ${recipient}\n\n${recipient.toUpperCase()}, ` })).toEqual({ ok: true, encrypt: { recipients: [recipient, recipient] } });
  });

  it('refuses mismatched or short passphrases and text that is no age recipient, saying why', () => {
    expect(encryptionFromChoice({ ...noEncryption, mode: 'passphrase', passphrase: 'long enough', confirmation: 'long enougH' })).toEqual({ ok: false, error: 'Encryption: the two passphrases do not match.' });
    expect(encryptionFromChoice({ ...noEncryption, mode: 'passphrase', passphrase: 'short', confirmation: 'short' })).toMatchObject({ ok: false, error: expect.stringContaining('at least 8 characters') });
    expect(encryptionFromChoice({ ...noEncryption, mode: 'recipients', recipients: 'ssh-ed25519 AAAA' })).toMatchObject({ ok: false, error: expect.stringContaining('age1') });
    expect(encryptionFromChoice({ ...noEncryption, mode: 'recipients', recipients: '   ' })).toMatchObject({ ok: false });
  });

  it('grades passphrases by length and variety', () => {
    expect(passphraseStrength('abc')).toBe('too short');
    expect(passphraseStrength('abcdefgh')).toBe('weak');
    expect(passphraseStrength('abcdefgh12')).toBe('fair');
    expect(passphraseStrength('eucalyptus-at-dawn-42')).toBe('strong');
  });
});
