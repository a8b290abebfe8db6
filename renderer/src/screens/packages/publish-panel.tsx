import { useEffect, useState, type FormEvent } from 'react';
import { publishMetadataSchema, type PackageInspectionView, type PublishMetadata } from '../../../../shared/domain/registry';
import { ProgressBar } from '../../components/progress-bar';
import { formatBytes } from '../../lib/format';
import { useJobsStore } from '../../stores/jobs-store';
import { resetDrop, usePackagesStore } from '../../stores/packages-store';

/** The drop flow: upload/inspect → what was found + metadata form → publish job with progress. */
export function PublishPanel() {
  const drop = usePackagesStore((state) => state.drop);
  const publish = usePackagesStore((state) => state.publish);
  const cancelDrop = usePackagesStore((state) => state.cancelDrop);
  const onJobFinished = usePackagesStore((state) => state.onJobFinished);
  const job = useJobsStore((state) => state.jobs.find((candidate) => candidate.id === drop.jobId));
  const inspection = drop.inspection;

  useEffect(() => {
    if (job && (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled' || job.status === 'interrupted')) {
      onJobFinished(job.id, job.status === 'succeeded', job.error?.message ?? null);
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
      {drop.phase === 'inspecting' ? <p className="muted">Reading and verifying every resource…</p> : null}
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
      {drop.phase === 'ready' && inspection ? <PublishForm key={`${drop.fileName}:${inspection.name}@${inspection.version}`} inspection={inspection} onPublish={(metadata) => void publish(metadata)} onDiscard={() => void cancelDrop()} /> : null}
      {drop.phase === 'publishing' ? (
        <div className="row" data-testid="publish-progress">
          <ProgressBar value={job?.progress ?? null} label="Publish progress" />
          <span className="muted">{job?.message ?? 'Publishing…'}</span>
          <button type="button" className="link-button" onClick={() => void cancelDrop()}>
            Cancel
          </button>
        </div>
      ) : null}
      {drop.phase === 'published' ? (
        <p className="success-text" data-testid="publish-done">
          Published {inspection?.name} {inspection?.version}.
        </p>
      ) : null}
    </section>
  );
}

function PublishForm({ inspection, onPublish, onDiscard }: { inspection: PackageInspectionView; onPublish: (metadata: PublishMetadata) => void; onDiscard: () => void }) {
  // Pre-filled from the manifest; the form is re-created (key) for each dropped package.
  const [form, setForm] = useState(() => ({ description: inspection.description ?? '', author: inspection.author ?? '', license: inspection.license ?? '', tags: inspection.tags.join(', ') }));
  const [formError, setFormError] = useState<string | null>(null);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
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
    onPublish(metadata.data);
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
          {formError ? (
            <p className="error-text" role="alert">
              {formError}
            </p>
          ) : null}
          <div className="row">
            <button type="submit" className="button" data-testid="publish-submit">
              Publish
            </button>
            <button type="button" className="button secondary" onClick={onDiscard}>
              Discard
            </button>
          </div>
        </form>
  );
}
