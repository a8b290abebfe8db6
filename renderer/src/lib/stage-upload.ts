import type { z } from 'zod';
import { stagedPackageSchema, type StagedPackage } from '../../../shared/domain/registry';
import { errorEnvelopeSchema } from '../../../shared/errors';
import { ContractClientError } from './contract-client';

export interface Upload<Result> {
  promise: Promise<Result>;
  abort: () => void;
}

/**
 * PUTs a file to a host session route with XHR (which, unlike fetch, reports upload progress) and
 * reads the JSON answer. The session cookie authenticates it.
 */
export function putWithProgress<Schema extends z.ZodType>(url: string, file: Blob, schema: Schema, onProgress: (sent: number, total: number) => void): Upload<z.infer<Schema>> {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<z.infer<Schema>>((resolve, reject) => {
    xhr.open('PUT', url);
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
        const parsed = schema.safeParse(body);
        if (parsed.success) resolve(parsed.data);
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

/** Browser drop of a package: upload it into the host's staging area, then inspect and publish it through the contract. */
export function uploadToStaging(file: File, onProgress: (sent: number, total: number) => void): Upload<StagedPackage> {
  return putWithProgress(`/session/staging?filename=${encodeURIComponent(file.name)}`, file, stagedPackageSchema, onProgress);
}
