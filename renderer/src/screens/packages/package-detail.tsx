import { useState } from 'react';
import { formatBytes, formatTime } from '../../lib/format';
import { usePackagesStore } from '../../stores/packages-store';
import { signatureStateOf, versionSignatureState, type SignatureState, type SignatureSummary, type VersionSignatureState } from '../../../../shared/domain/registry';
import { EncryptionBadge } from './encryption-badge';
import { DecryptDownloadDialog } from './decrypt-download-dialog';

function downloadPath(name: string, version: string): string {
  return `/api/v1/packages/${name.split('/').map(encodeURIComponent).join('/')}/${encodeURIComponent(version)}/download`;
}

const badgeLooks: Record<VersionSignatureState, { text: string; className: string; title: string }> = {
  'signed-trusted': { text: 'signed · trusted', className: 'badge badge-succeeded', title: 'Signed by a key this registry trusts, and the signature verifies.' },
  'signed-untrusted': { text: 'signed · untrusted', className: 'badge badge-warning', title: 'Signed, but by keys this registry does not trust: it vouches for nothing here.' },
  invalid: { text: 'invalid signature', className: 'badge badge-failed', title: 'Signed by a trusted key, but the signature does not match these bytes or this version.' },
  unsigned: { text: 'unsigned', className: 'badge', title: 'No signature.' },
};

/** A version's signature state as a badge; the registry judges trust with its own trust store. */
export function SignatureStateBadge({ state }: { state: VersionSignatureState }) {
  const look = badgeLooks[state];
  return (
    <span className={look.className} title={look.title} data-signature-state={state}>
      {look.text}
    </span>
  );
}

const keyMarks: Record<SignatureState, string> = { trusted: ' ✓', untrusted: '', invalid: ' ✗' };

function SignatureBadge({ signatures }: { signatures: SignatureSummary[] }) {
  return (
    <>
      <SignatureStateBadge state={versionSignatureState(signatures)} />
      {signatures.length > 0 ? <span className="mono muted"> {signatures.map((signature) => `${signature.key_id}${keyMarks[signatureStateOf(signature)]}`).join(', ')}</span> : null}
    </>
  );
}

export function PackageDetail() {
  const detail = usePackagesStore((state) => state.detail);
  const versions = usePackagesStore((state) => state.versions);
  const error = usePackagesStore((state) => state.detailError);
  const select = usePackagesStore((state) => state.select);
  const setYanked = usePackagesStore((state) => state.setYanked);
  const httpBaseUrl = usePackagesStore((state) => state.httpBaseUrl);
  const saveToFolder = usePackagesStore((state) => state.saveToFolder);
  const inBrowser = window.location.protocol.startsWith('http');
  const [copied, setCopied] = useState(false);
  const [decrypting, setDecrypting] = useState<string | null>(null);

  if (error) return <p className="error-text" role="alert">{error}</p>;
  if (!detail) return <p className="muted empty">Select a package to see its manifest, resources and versions.</p>;
  const base = httpBaseUrl ?? (inBrowser ? window.location.origin : null);
  const fileName = `${detail.name.replace('/', '__')}-${detail.version}.torshpkg`;
  const curl = base ? `curl -fL -o ${fileName} ${base}${downloadPath(detail.name, detail.version)}` : null;

  return (
    <article className="detail" data-testid="package-detail" aria-label={`${detail.name} ${detail.version}`}>
      <header className="detail-header">
        <div>
          <h2 data-testid="detail-title">
            {detail.name} <span className="version">{detail.version}</span>
          </h2>
          <p>{detail.description ?? <span className="muted">No description</span>}</p>
          <EncryptionBadge encryption={detail.encryption} detailed />
          {detail.yanked ? <p className="badge badge-failed">Yanked: skipped by resolve and search, still downloadable by exact version</p> : null}
        </div>
        <div className="detail-actions">
          {detail.encryption ? (
            <button type="button" className="button" onClick={() => setDecrypting(`${detail.name}@${detail.version}`)} data-testid="decrypt-open">
              {inBrowser ? 'Download…' : 'Save to folder…'}
            </button>
          ) : null}
          {detail.encryption && inBrowser ? (
            <a className="button secondary" href={downloadPath(detail.name, detail.version)} download={`${fileName}${detail.encryption.algorithm === 'aes-256-gcm' ? '.torshenc' : '.age'}`} data-testid="download-link">
              Download encrypted
            </a>
          ) : detail.encryption ? null : inBrowser ? (
            <a className="button" href={downloadPath(detail.name, detail.version)} download={fileName} data-testid="download-link">
              Download
            </a>
          ) : (
            <button type="button" className="button" onClick={() => void saveToFolder()}>
              Save to folder…
            </button>
          )}
          {curl ? (
            <button
              type="button"
              className="button secondary"
              onClick={() => {
                void navigator.clipboard?.writeText(curl).then(() => {
                  setCopied(true);
                  setTimeout(() => setCopied(false), 2_000);
                });
              }}
              title={curl}
            >
              {copied ? 'Copied' : 'Copy curl command'}
            </button>
          ) : null}
          <button type="button" className="button secondary" onClick={() => void setYanked(!detail.yanked)} data-testid="yank-toggle">
            {detail.yanked ? 'Unyank' : 'Yank'}
          </button>
        </div>
      </header>
      {detail.encryption && decrypting === `${detail.name}@${detail.version}` ? (
        <DecryptDownloadDialog key={decrypting} detail={detail} target={inBrowser ? 'browser' : 'folder'} onClose={() => setDecrypting(null)} />
      ) : null}
      <dl className="facts">
        <dt>Signatures</dt>
        <dd data-testid="signature-badge">
          <SignatureBadge signatures={detail.signatures ?? []} />
        </dd>
        <dt>Digest</dt>
        <dd className="mono" data-testid="detail-digest">{detail.digest}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(detail.size)}</dd>
        <dt>Downloads</dt>
        <dd data-testid="detail-downloads">{detail.downloads}</dd>
        <dt>Published</dt>
        <dd>{formatTime(detail.published_at)}</dd>
        <dt>Author</dt>
        <dd>{detail.author ?? '—'}</dd>
        <dt>License</dt>
        <dd>{detail.license ?? '—'}</dd>
        <dt>Tags</dt>
        <dd>{detail.tags.length > 0 ? detail.tags.map((tag) => <span key={tag} className="tag">{tag}</span>) : '—'}</dd>
      </dl>
      {curl ? <pre className="mono curl">{curl}</pre> : null}
      <h3>Resources ({detail.resources.length})</h3>
      {detail.encryption ? <p className="muted">The resource list of an encrypted version is not disclosed: it is inside the encrypted package.</p> : null}
      <table className="table">
        <thead>
          <tr>
            <th>Path</th>
            <th>Type</th>
            <th>Size</th>
            <th>Stored</th>
            <th>SHA-256</th>
          </tr>
        </thead>
        <tbody>
          {detail.resources.map((resource) => (
            <tr key={resource.path}>
              <td className="mono">{resource.path}</td>
              <td>{resource.type}</td>
              <td>{formatBytes(resource.size)}</td>
              <td>{resource.compression === 'stored' ? 'stored' : `${resource.compression}, ${formatBytes(resource.compressed_size)}`}</td>
              <td className="mono truncate" title={resource.sha256}>{resource.sha256.slice(0, 16)}…</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Dependencies</h3>
      {Object.keys(detail.dependencies).length === 0 ? <p className="muted">None</p> : (
        <ul className="plain">
          {Object.entries(detail.dependencies).map(([name, range]) => (
            <li key={name} className="mono">{name} {range}</li>
          ))}
        </ul>
      )}
      {versions ? (
        <>
          <h3>Versions</h3>
          <ul className="plain versions">
            {versions.versions.map((entry) => (
              <li key={entry.version}>
                <button type="button" className={`link-button ${entry.version === detail.version ? 'current' : ''}`} onClick={() => void select(detail.name, entry.version)}>
                  {entry.version}
                </button>{' '}
                <span className="muted">{formatTime(entry.published_at)} · {formatBytes(entry.size)}</span>
                {entry.signature ? <SignatureStateBadge state={entry.signature} /> : null}
                {entry.yanked ? <span className="badge badge-failed">yanked</span> : null}
                <EncryptionBadge encryption={entry.encryption} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </article>
  );
}
