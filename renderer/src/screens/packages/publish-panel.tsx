import { useEffect, useState, type FormEvent } from 'react';
import { publishMetadataSchema, type FolderInspection, type PackageInspectionView, type PublishMetadata } from '../../../../shared/domain/registry';
import { isStrictSemver, isValidPackageName } from '../../../../shared/packages/manifest';
import { ProgressBar } from '../../components/progress-bar';
import { formatBytes } from '../../lib/format';
import { useJobsStore } from '../../stores/jobs-store';
import type { JobRecord } from '../../../../shared/domain/jobs';
import { resetDrop, usePackagesStore, type PackFields, type PublishChoices } from '../../stores/packages-store';
import { SignOnPublishField, useSignOnPublishKey } from './sign-on-publish';
import { EncryptOnPublish, encryptionFromChoice, noEncryption } from './encrypt-on-publish';

/** The drop flow: upload/inspect → what was found + metadata form → publish job with progress. */
export function PublishPanel() {
  const drop = usePackagesStore((state) => state.drop);
  const publish = usePackagesStore((state) => state.publish);
  const cancelDrop = usePackagesStore((state) => state.cancelDrop);
  const packFolder = usePackagesStore((state) => state.packFolder);
  const onJobFinished = usePackagesStore((state) => state.onJobFinished);
  const job = useJobsStore((state) => state.jobs.find((candidate) => candidate.id === drop.jobId));
  const inspection = drop.inspection;

  useEffect(() => {
    if (job && (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled' || job.status === 'interrupted')) {
      onJobFinished(job);
    }
  }, [job, onJobFinished]);

  if (drop.phase === 'idle') return null;

  return (
    <section className="card publish-panel" aria-label="Publish a package" data-testid="publish-panel">
      <div className="row spread">
        <h2>Publish {drop.fileName}</h2>
        {drop.phase === 'published' || drop.phase === 'error' ? (
          <button type="button" className="button secondary" onClick={() => resetDrop()}>
            Close
          </button>
        ) : null}
      </div>
      {drop.phase === 'uploading' ? (
        <div className="row">
          <ProgressBar value={drop.total > 0 ? drop.uploaded / drop.total : null} label="Upload progress" />
          <span className="muted">
            Uploading {formatBytes(drop.uploaded)} of {formatBytes(drop.total)}
          </span>
          <button type="button" className="link-button" onClick={() => void cancelDrop()}>
            Cancel
          </button>
        </div>
      ) : null}
      {drop.phase === 'inspecting' ? <p className="muted">{drop.folderSource ? 'Listing the folder…' : 'Reading and verifying every resource…'}</p> : null}
      {drop.phase === 'folder' && drop.folderInspection ? (
        <FolderForm key={drop.folderInspection.folderName} inspection={drop.folderInspection} serverError={drop.error} onPack={(fields) => void packFolder(fields)} onDiscard={() => void cancelDrop()} />
      ) : null}
      {drop.phase === 'packing' ? <JobProgressRow job={job} label="Packing progress" fallback="Packing…" testId="pack-progress" onCancel={() => void cancelDrop()} /> : null}
      {drop.phase === 'error' ? (
        <p className="error-text" role="alert" data-testid="publish-error">
          {drop.error}
        </p>
      ) : null}
      {inspection && (drop.phase === 'ready' || drop.phase === 'publishing' || drop.phase === 'published') ? (
        <>
          <p data-testid="inspection-summary">
            <strong>
              {inspection.name} {inspection.version}
            </strong>{' '}
            · {inspection.resources.length} resources · {formatBytes(inspection.fileSize)} · format {inspection.formatVersion}
            {Object.keys(inspection.dependencies).length > 0 ? ` · depends on ${Object.entries(inspection.dependencies).map(([name, range]) => `${name} ${range}`).join(', ')}` : ''}
          </p>
          <ul className="plain resource-list">
            {inspection.resources.slice(0, 8).map((resource) => (
              <li key={resource.path} className="mono">
                {resource.path} <span className="muted">{resource.type} · {formatBytes(resource.size)}</span>
              </li>
            ))}
            {inspection.resources.length > 8 ? <li className="muted">…and {inspection.resources.length - 8} more</li> : null}
          </ul>
          {inspection.alreadyPublished ? (
            <p className={inspection.alreadyPublished.sameBytes === false ? 'error-text' : 'muted'}>
              {inspection.alreadyPublished.sameBytes === false
                ? `Version ${inspection.version} is already published with different bytes: publishing will be refused (versions are immutable).`
                : `Version ${inspection.version} is already published; publishing the same bytes again changes nothing.`}
            </p>
          ) : null}
        </>
      ) : null}
      {drop.phase === 'ready' && inspection ? (
        <PublishForm key={`${drop.fileName}:${inspection.name}@${inspection.version}`} inspection={inspection} onPublish={(metadata, choices) => void publish(metadata, choices)} onDiscard={() => void cancelDrop()} />
      ) : null}
      {drop.phase === 'publishing' ? <JobProgressRow job={job} label="Publish progress" fallback="Publishing…" testId="publish-progress" onCancel={() => void cancelDrop()} /> : null}
      {drop.phase === 'published' ? (
        <p className="success-text" data-testid="publish-done">
          Published {inspection?.name} {inspection?.version}.
        </p>
      ) : null}
    </section>
  );
}

function PublishForm({ inspection, onPublish, onDiscard }: { inspection: PackageInspectionView; onPublish: (metadata: PublishMetadata, choices: PublishChoices) => void; onDiscard: () => void }) {
  // Pre-filled from the manifest; the form is re-created (key) for each dropped package.
  const [form, setForm] = useState(() => ({ description: inspection.description ?? '', author: inspection.author ?? '', license: inspection.license ?? '', tags: inspection.tags.join(', ') }));
  const [signWith, setSignWith] = useSignOnPublishKey();
  const [formError, setFormError] = useState<string | null>(null);
  const [encryptChoice, setEncryptChoice] = useState(noEncryption);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const encryption = encryptionFromChoice(encryptChoice);
    if (!encryption.ok) {
      setFormError(encryption.error);
      return;
    }
    const tags = form.tags.split(',').map((tag) => tag.trim()).filter((tag) => tag !== '');
    const metadata = publishMetadataSchema.safeParse({
      description: form.description.trim() === '' ? null : form.description.trim(),
      author: form.author.trim() === '' ? null : form.author.trim(),
      license: form.license.trim() === '' ? null : form.license.trim(),
      tags,
    });
    if (!metadata.success) {
      setFormError(metadata.error.issues.map((issue) => `${issue.path.join('.') || 'metadata'}: ${issue.message}`).join('; '));
      return;
    }
    setFormError(null);
    onPublish(metadata.data, { signWith, ...(encryption.encrypt ? { encrypt: encryption.encrypt } : {}) });
  };

  return (
        <form className="form" onSubmit={submit} noValidate>
          <label className="field">
            <span>Description</span>
            <textarea value={form.description} onChange={(event) => setForm({ ...form, description: event.target.value })} rows={2} data-testid="publish-description" />
          </label>
          <div className="grid-3">
            <label className="field">
              <span>Author</span>
              <input value={form.author} onChange={(event) => setForm({ ...form, author: event.target.value })} data-testid="publish-author" />
            </label>
            <label className="field">
              <span>License</span>
              <input value={form.license} onChange={(event) => setForm({ ...form, license: event.target.value })} data-testid="publish-license" />
            </label>
            <label className="field">
              <span>Tags (comma-separated)</span>
              <input value={form.tags} onChange={(event) => setForm({ ...form, tags: event.target.value })} data-testid="publish-tags" />
            </label>
          </div>
          <EncryptOnPublish choice={encryptChoice} onChange={setEncryptChoice} />
          {encryptChoice.mode !== 'none' && inspection.alreadyPublished ? (
            <p className="error-text" data-testid="publish-encrypt-conflict">
              Version {inspection.version} is already published: an encrypted publish onto it will be refused (versions are immutable, and encrypted bytes never match).
            </p>
          ) : null}
          <SignOnPublishField value={signWith} onChange={setSignWith} />
          <FormActions error={formError} submitLabel={signWith ? 'Publish and sign' : 'Publish'} submitTestId="publish-submit" errorTestId="publish-form-error" onDiscard={onDiscard} />
        </form>
  );
}

/** A dropped folder: what packing found, and the package's name and version (required) before packing. */
function FolderForm({ inspection, serverError, onPack, onDiscard }: { inspection: FolderInspection; serverError: string | null; onPack: (fields: PackFields) => void; onDiscard: () => void }) {
  const [form, setForm] = useState(() => ({ name: inspection.suggestedName ?? '', version: inspection.suggestedVersion ?? '1.0.0', description: '', author: '', license: '' }));
  const [formError, setFormError] = useState<string | null>(null);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const name = form.name.trim();
    const version = form.version.trim();
    if (!isValidPackageName(name)) {
      setFormError('Name: lowercase letters, digits, "-", "_", "." — optionally one "scope/" prefix.');
      return;
    }
    if (!isStrictSemver(version)) {
      setFormError('Version: a strict semantic version such as 1.0.0 or 2.1.0-rc.1.');
      return;
    }
    setFormError(null);
    const optional = (text: string): string | null => (text.trim() === '' ? null : text.trim());
    onPack({ name, version, description: optional(form.description), author: optional(form.author), license: optional(form.license) });
  };

  return (
    <>
      <p data-testid="folder-summary">
        <strong>{inspection.folderName}</strong> · {inspection.fileCount} {inspection.fileCount === 1 ? 'file' : 'files'} · {formatBytes(inspection.totalBytes)} — packed as:
      </p>
      <ul className="plain resource-list">
        {inspection.files.slice(0, 8).map((file) => (
          <li key={file.entryPath} className="mono">
            {file.entryPath} <span className="muted">{file.type} · {formatBytes(file.size)}</span>
          </li>
        ))}
        {inspection.fileCount > 8 ? <li className="muted">…and {inspection.fileCount - 8} more</li> : null}
      </ul>
      <form className="form" onSubmit={submit} noValidate>
        <div className="grid-3">
          <label className="field">
            <span>Package name</span>
            <input value={form.name} onChange={(event) => setForm({ ...form, name: event.target.value })} required data-testid="pack-name" />
          </label>
          <label className="field">
            <span>Version</span>
            <input value={form.version} onChange={(event) => setForm({ ...form, version: event.target.value })} required data-testid="pack-version" />
          </label>
          <label className="field">
            <span>License</span>
            <input value={form.license} onChange={(event) => setForm({ ...form, license: event.target.value })} data-testid="pack-license" />
          </label>
        </div>
        <label className="field">
          <span>Description</span>
          <textarea value={form.description} onChange={(event) => setForm({ ...form, description: event.target.value })} rows={2} data-testid="pack-description" />
        </label>
        <label className="field">
          <span>Author</span>
          <input value={form.author} onChange={(event) => setForm({ ...form, author: event.target.value })} data-testid="pack-author" />
        </label>
        <FormActions error={formError ?? serverError} submitLabel="Pack" submitTestId="pack-submit" errorTestId="pack-error" onDiscard={onDiscard} />
      </form>
    </>
  );
}

function JobProgressRow({ job, label, fallback, testId, onCancel }: { job: JobRecord | undefined; label: string; fallback: string; testId: string; onCancel: () => void }) {
  return (
    <div className="row" data-testid={testId}>
      <ProgressBar value={job?.progress ?? null} label={label} />
      <span className="muted">{job?.message ?? fallback}</span>
      <button type="button" className="link-button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

function FormActions({ error, submitLabel, submitTestId, errorTestId, onDiscard }: { error: string | null; submitLabel: string; submitTestId: string; errorTestId: string; onDiscard: () => void }) {
  return (
    <>
      {error ? (
        <p className="error-text" role="alert" data-testid={errorTestId}>
          {error}
        </p>
      ) : null}
      <div className="row">
        <button type="submit" className="button" data-testid={submitTestId}>
          {submitLabel}
        </button>
        <button type="button" className="button secondary" onClick={onDiscard}>
          Discard
        </button>
      </div>
    </>
  );
}
