import { stagedPackageSchema, type StagedPackage } from '../../../shared/domain/registry';
import { errorEnvelopeSchema } from '../../../shared/errors';
import { ContractClientError } from './contract-client';

/**
 * Browser drop: upload the file into the host's staging area with XHR (which, unlike fetch,
 * reports upload progress). The session cookie authenticates it.
 */
export function uploadToStaging(file: File, onProgress: (sent: number, total: number) => void): { promise: Promise<StagedPackage>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<StagedPackage>((resolve, reject) => {
    xhr.open('PUT', `/session/staging?filename=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // fall through to the status-based error
      }
      if (xhr.status === 201) {
        const staged = stagedPackageSchema.safeParse(body);
        if (staged.success) resolve(staged.data);
        else reject(new ContractClientError('INTERNAL', 'The host answered the upload in an unexpected form.'));
        return;
      }
      const envelope = errorEnvelopeSchema.safeParse((body as { error?: unknown } | null)?.error);
      reject(envelope.success ? new ContractClientError(envelope.data.code, envelope.data.message) : new ContractClientError('UNAVAILABLE', `Upload failed (HTTP ${xhr.status}).`));
    };
    xhr.onerror = () => reject(new ContractClientError('UNAVAILABLE', 'The upload was interrupted.'));
    xhr.onabort = () => reject(new ContractClientError('CANCELLED', 'Upload cancelled.'));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}
