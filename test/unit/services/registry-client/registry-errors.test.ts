import { describe, expect, it } from 'vitest';
import { errorFromResponse, missingKeyHint } from '../../../../electron/services/registry-client/registry-errors';

const notFound = (): Response => new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No package named vision/remote.' } }), { status: 404 });

describe('errorFromResponse', () => {
  it('adds the API-key hint to a 404 without a key (hidden packages answer like missing ones)', async () => {
    for (const options of [{}, { withKey: false }]) {
      const error = await errorFromResponse(notFound(), 'pull vision/remote', options);
      expect({ code: error.code, reason: error.reason, message: error.message }).toEqual({ code: 'NOT_FOUND', reason: 'http-404', message: `No package named vision/remote. ${missingKeyHint}` });
    }
    expect(missingKeyHint).toContain('--api-key');
  });

  it('keeps the server message alone when a key was sent, and for other statuses', async () => {
    expect((await errorFromResponse(notFound(), 'pull', { withKey: true })).message).toBe('No package named vision/remote.');
    const forbidden = await errorFromResponse(new Response(JSON.stringify({ error: { code: 'FORBIDDEN', message: 'viewer lacks UploadPackage.' } }), { status: 403 }), 'publish');
    expect({ code: forbidden.code, message: forbidden.message }).toEqual({ code: 'FORBIDDEN', message: 'viewer lacks UploadPackage.' });
    const bare = await errorFromResponse(new Response('', { status: 404, statusText: 'Not Found' }), 'GET /x');
    expect(bare.message).toBe(`GET /x: the registry answered HTTP 404 Not Found. ${missingKeyHint}`);
  });
});
