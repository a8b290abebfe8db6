import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { makeTempDir } from '../../support/temp-dir';

let core: Core;
let server: Server;
let base: string;
const temp = makeTempDir('torsh-cdn-edge-load-');
const reads: string[] = [];

beforeAll(async () => {
  // An edge that reports its own figures: JSON on one path, a header on another, nonsense on a third.
  server = createServer((request, response) => {
    reads.push(request.url ?? '');
    if (request.url === '/load.json') response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ load: 0.75 }));
    else if (request.url === '/load-header') response.writeHead(204, { 'X-Edge-Load': '0.4' }).end();
    else if (request.url === '/load-bad') response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"load":"lots"}');
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger });
  await core.cdn.replaceSection({
    provider: 'varnish',
    origin: { storage: 'registry' },
    edges: [
      { id: 'json', region: 'eu-central-1', endpoint: base, load_path: '/load.json' },
      { id: 'header', region: 'eu-central-1', endpoint: base, load_path: '/load-header' },
      { id: 'bad', region: 'eu-central-1', endpoint: base, load_path: '/load-bad' },
      { id: 'ours', region: 'eu-central-1', endpoint: base },
    ],
  });
});

afterAll(async () => {
  await core?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  temp.cleanup();
});

describe('edge-reported load', () => {
  it('uses what an edge reports at its load_path (JSON or X-Edge-Load), else our transfer counts, and ranks by it', async () => {
    const edges = new Map((await core.cdn.edges()).map((edge) => [edge.id, edge]));
    expect(edges.get('json')).toMatchObject({ load: 0.75, loadSource: 'edge' });
    expect(edges.get('header')).toMatchObject({ load: 0.4, loadSource: 'edge' });
    expect(edges.get('bad')).toMatchObject({ load: 0, loadSource: 'transfers' });
    expect(edges.get('ours')).toMatchObject({ load: 0, loadSource: 'transfers' });

    const answer = await core.cdn.bestUrl({ name: 'vision/big', version: '1.0.0', region: 'eu-central-1' });
    const ranked = new Map(answer.ranking.map((entry) => [entry.edgeId, entry]));
    expect(ranked.get('json')?.load).toBe(0.75);
    expect(ranked.get('json')?.parts.load).toBeGreaterThan(ranked.get('header')?.parts.load ?? Infinity);
    expect(['bad', 'ours']).toContain(answer.edgeId);
    // Read again within a few seconds: the figures are not fetched on every request.
    const before = reads.length;
    await core.cdn.edges();
    expect(reads.length).toBe(before);
  });
});
