import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cdnSectionSchema } from '../../../shared/domain/cdn';
import { CdnEdgeMonitor } from '../../../electron/services/cdn/cdn-edge-monitor';
import { rankEdges } from '../../../electron/services/cdn/edge-selector';
import { migrations } from '../../../electron/services/database/migrations';
import { openDatabase } from '../../../electron/services/database/open-database';
import { silentLogger } from '../../../electron/services/logger';
import { SqliteProbeRepository } from '../../../electron/services/probes/probe-repository';
import { Prober } from '../../../electron/services/probes/prober';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function edgeServer(): Promise<string> {
  const server: Server = createServer((request, response) => {
    response.writeHead(request.url === '/probe.bin' ? 200 : 404, { 'Content-Type': 'application/octet-stream' });
    response.end(Buffer.alloc(1024));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('CDN edges through the shared probe machinery', () => {
  it('marks a dead edge unhealthy, keeps latency for the live one, and the ranking follows', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const db = openDatabase(path.join(temp.dir, 'depot.sqlite'), migrations);
    cleanups.push(() => db.close());
    const live = await edgeServer();
    const dead = await edgeServer();
    // A closed port: nothing answers there any more.
    await cleanups.pop()?.();
    const section = cdnSectionSchema.parse({
      provider: 'varnish',
      origin: { storage: 'registry' },
      health: { failures_to_down: 1, successes_to_up: 1, timeout: '2s' },
      edges: [
        // The dead edge is nearer the client: only its health keeps it from winning.
        { id: 'near-dead', region: 'eu-central-1', endpoint: dead, probe_path: '/probe.bin' },
        { id: 'far-live', region: 'us-east-1', endpoint: live, probe_path: '/probe.bin' },
        { id: 'wrong-path', region: 'eu-west-1', endpoint: live, probe_path: '/missing' },
      ],
    });
    const repository = new SqliteProbeRepository(db);
    const prober = new Prober({ repository, logger: silentLogger });
    cleanups.push(() => prober.close());
    const monitor = new CdnEdgeMonitor(prober, repository, () => section);
    await monitor.checkAll();
    const candidates = await monitor.candidates(new Map([['far-live', 0.25]]));
    expect(candidates.map((candidate) => [candidate.config.id, candidate.status])).toEqual([
      ['near-dead', 'unhealthy'],
      ['far-live', 'healthy'],
      ['wrong-path', 'unhealthy'],
    ]);
    expect(candidates[1]?.latencyMs).toBeGreaterThan(0);
    const ranking = rankEdges(candidates, 'eu-central-1');
    expect(ranking[0]).toMatchObject({ edgeId: 'far-live', eligible: true, load: 0.25 });
    expect(ranking.filter((entry) => !entry.eligible).map((entry) => entry.edgeId).sort()).toEqual(['near-dead', 'wrong-path']);
    expect((await repository.history('cdn-edge', 'near-dead', 10))[0]).toMatchObject({ ok: false, status: 'unhealthy' });
  });
});
