import { useId } from 'react';
import { encryptionAlgorithms, minPassphraseLength, publishEncryptionSchema, type EncryptionAlgorithm, type PublishEncryption } from '../../../../shared/domain/encryption';

export interface EncryptChoice {
  mode: 'none' | 'passphrase' | 'recipients';
  algorithm: EncryptionAlgorithm;
  passphrase: string;
  confirmation: string;
  recipients: string;
}

export const noEncryption: EncryptChoice = { mode: 'none', algorithm: 'aes-256-gcm', passphrase: '', confirmation: '', recipients: '' };

const algorithmNames: Record<EncryptionAlgorithm, string> = { 'aes-256-gcm': 'AES-256-GCM (default)', 'chacha20-poly1305': 'ChaCha20-Poly1305 (age file)' };

/** What the publish request carries, or why the choice cannot be sent yet. */
export function encryptionFromChoice(choice: EncryptChoice): { ok: true; encrypt: PublishEncryption | undefined } | { ok: false; error: string } {
  if (choice.mode === 'none') return { ok: true, encrypt: undefined };
  if (choice.mode === 'passphrase' && choice.passphrase !== choice.confirmation) return { ok: false, error: 'Encryption: the two passphrases do not match.' };
  const candidate =
    choice.mode === 'passphrase'
      ? { algorithm: choice.algorithm, passphrase: choice.passphrase }
      : { recipients: choice.recipients.split(/[\s,]+/).filter((line) => line !== '') };
  const parsed = publishEncryptionSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, error: `Encryption: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, encrypt: parsed.data };
}

/** A rough guide only (length and variety), shown while typing; the rule enforced is the minimum length. */
export function passphraseStrength(passphrase: string): 'too short' | 'weak' | 'fair' | 'strong' {
  if (passphrase.length < minPassphraseLength) return 'too short';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(passphrase)).length;
  const score = passphrase.length + 4 * classes;
  return score >= 28 ? 'strong' : score >= 18 ? 'fair' : 'weak';
}

/** The publish form's "Encrypt" option: none, a passphrase (typed twice) or age recipients. */
export function EncryptOnPublish({ choice, onChange }: { choice: EncryptChoice; onChange: (choice: EncryptChoice) => void }) {
  const hintId = useId();
  const strength = passphraseStrength(choice.passphrase);
  const mismatch = choice.confirmation !== '' && choice.confirmation !== choice.passphrase;
  return (
    <fieldset className="fieldset encrypt-on-publish" data-testid="encrypt-on-publish">
      <legend>Encryption</legend>
      <div className="row" role="radiogroup" aria-label="Encryption">
        {(
          [
            ['none', 'Not encrypted'],
            ['passphrase', 'Encrypt with a passphrase'],
            ['recipients', 'Encrypt to age recipients'],
          ] as const
        ).map(([mode, label]) => (
          <label key={mode} className="radio">
            <input type="radio" name="encrypt-mode" checked={choice.mode === mode} onChange={() => onChange({ ...choice, mode })} /> {label}
          </label>
        ))}
      </div>
      {choice.mode === 'passphrase' ? (
        <div className="grid-3">
          <label className="field">
            <span>Algorithm</span>
            <select value={choice.algorithm} onChange={(event) => onChange({ ...choice, algorithm: event.target.value as EncryptionAlgorithm })}>
              {encryptionAlgorithms.map((algorithm) => (
                <option key={algorithm} value={algorithm}>
                  {algorithmNames[algorithm]}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Passphrase</span>
            <input type="password" autoComplete="new-password" value={choice.passphrase} aria-describedby={hintId} onChange={(event) => onChange({ ...choice, passphrase: event.target.value })} />
          </label>
          <label className="field">
            <span>Repeat passphrase</span>
            <input type="password" autoComplete="new-password" value={choice.confirmation} aria-invalid={mismatch} onChange={(event) => onChange({ ...choice, confirmation: event.target.value })} />
          </label>
          <p id={hintId} className={`muted passphrase-strength strength-${strength.replace(' ', '-')}`} data-testid="passphrase-strength">
            Strength: {strength}
            {mismatch ? ' · the passphrases differ' : ''} · it cannot be recovered: without it nobody can open this version.
          </p>
        </div>
      ) : null}
      {choice.mode === 'recipients' ? (
        <label className="field">
          <span>Age recipients (age1…, one per line)</span>
          <textarea rows={2} className="mono" value={choice.recipients} spellCheck={false} onChange={(event) => onChange({ ...choice, recipients: event.target.value })} placeholder="age1…" />
        </label>
      ) : null}
    </fieldset>
  );
}
