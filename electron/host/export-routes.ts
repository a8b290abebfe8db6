import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Core } from '../services/composition-root';
import { DepotError } from '../../shared/errors';
import type { ApiRouteHandler } from './http-host';
import { sendError } from './http-json';

const exportPath = /^\/session\/exports\/([0-9a-f]{32})$/;

/**
 * `GET /session/exports/{id}`: a version the UI had the core save for this browser (`packages.prepareDownload`,
 * e.g. decrypted with a passphrase), served once as an attachment and then deleted.
 */
export function createExportRoutes(core: Core): ApiRouteHandler {
  return async (request, response, url) => {
    const match = exportPath.exec(url.pathname);
    if (!match?.[1]) return false;
    try {
      if (request.method !== 'GET') throw new DepotError('VALIDATION_FAILED', 'Use GET to download.', { reason: 'method-not-allowed' });
      const prepared = core.preparedDownloads.take(match[1]);
      if (!prepared) throw new DepotError('NOT_FOUND', 'This download was already taken or has expired; save the version again.');
      response.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(prepared.size),
        'Content-Disposition': `attachment; filename="${prepared.fileName.replace(/[^\w.@+-]/g, '_')}"`,
        'Cache-Control': 'no-store',
      });
      try {
        await pipeline(createReadStream(prepared.file), response);
      } finally {
        await prepared.release();
      }
    } catch (error) {
      if (!response.headersSent) sendError(response, error);
      else response.destroy();
    }
    return true;
  };
}
