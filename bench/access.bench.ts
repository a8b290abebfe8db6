// Authorization overhead per request: the same endpoint (GET /api/v1/packages/{name}/{version})
// served by one host, with access control and with it disabled per request (a bench-only switch),
// requests interleaved so both see the same machine load. Also times authenticate + check alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createCore } from '../electron/services/composition-root';
import { silentLogger } from '../electron/services/logger';
import { startHttpHost, type RunningHost } from '../electron/host/http-host';
import { createRegistryRoutes } from '../electron/host/registry-routes';
import { RegistryAuthorizer, type RegistryAction, type RegistryPrincipal } from '../electron/services/registry/registry-authorizer';
import { makeTestPackage } from '../test/support/packages';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { summarize, type LatencySummary } from './support/search-queries';

const requests = envNumber('BENCH_ACCESS_REQUESTS', 5_000);
const targetMs = 0.2;

/**
 * One host, one code path: requests carrying the `open` marker skip access control entirely (auth
 * disabled); all others go through it. So the only difference between variants is the check.
 */
const openMarker = 'bench-auth-disabled';
const openPrincipal: RegistryPrincipal = { kind: 'anonymous' };
class SwitchableAuthorizer extends RegistryAuthorizer {
  override authenticate(authorization: string | undefined, source: string | null = null): RegistryPrincipal {
    return authorization === openMarker ? openPrincipal : super.authenticate(authorization, source);
  }
  override authorize(principal: RegistryPrincipal, action: RegistryAction, name?: string): void {
    if (principal !== openPrincipal) super.authorize(principal, action, name);
  }
}

function timedGet(agent: Agent, url: string, key: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const authorization = key === openMarker ? key : key ? `Bearer ${key}` : undefined;
    const req = request(url, { agent, headers: authorization ? { Authorization: authorization } : {} }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`GET ${url}: ${response.statusCode}`));
        else resolve(performance.now() - started);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function ms(value: number): string {
  return value.toFixed(3);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(process.env.BENCH_WORK_DIR ?? os.tmpdir(), 'access-'));
  const core = createCore({ dataDir: path.join(dir, 'data'), shell: 'headless', logger: silentLogger });
  const hosts: RunningHost[] = [];
  try {
    const routes = createRegistryRoutes({ registry: core.registry, authorizer: new SwitchableAuthorizer(core.access), tmpDir: core.tmpDir, maxPackageBytes: () => 1 << 30, logger: silentLogger });
    const host = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [routes] });
    hosts.push(host);

    // A realistic team registry: a few users with grants, one internal and one public package.
    const admin = core.access.localContext();
    const user = core.access.createUser(admin, { name: 'bench-user', email: 'bench@example.com' });
    core.access.grantUserRole(admin, user.id, 'data-scientist', '*');
    core.access.grantUserRole(admin, user.id, 'ml-engineer', 'vision/*');
    const { key } = core.access.createKey(admin, { userId: user.id });
    for (const [name, visibility] of [['bench-internal', 'internal'], ['bench-public', 'public']] as const) {
      const file = await makeTestPackage(path.join(dir, 'work'), { name, version: '1.0.0' });
      await core.staging.publish({ kind: 'path', path: file }, {}, 'local', 'local').done;
      core.access.setPackageAccess(admin, name, { visibility });
    }

    const variants: Array<{ label: string; url: string; key: string | null; agent: Agent; samples: number[] }> = [
      { label: 'auth disabled', url: `${host.url}api/v1/packages/bench-internal/1.0.0`, key: openMarker, agent: new Agent({ keepAlive: true, maxSockets: 1 }), samples: [] },
      { label: 'valid key, internal package', url: `${host.url}api/v1/packages/bench-internal/1.0.0`, key, agent: new Agent({ keepAlive: true, maxSockets: 1 }), samples: [] },
      { label: 'no key, public package', url: `${host.url}api/v1/packages/bench-public/1.0.0`, key: null, agent: new Agent({ keepAlive: true, maxSockets: 1 }), samples: [] },
    ];
    for (let warm = 0; warm < 200; warm += 1) for (const variant of variants) await timedGet(variant.agent, variant.url, variant.key);
    log(`access: ${requests} requests per variant, interleaved`);
    for (let round = 0; round < requests; round += 1) {
      // Rotate the order each round: no variant always runs right after another's GC or write.
      for (let index = 0; index < variants.length; index += 1) {
        const variant = variants[(round + index) % variants.length];
        if (variant) variant.samples.push(await timedGet(variant.agent, variant.url, variant.key));
      }
    }
    for (const variant of variants) variant.agent.destroy();
    const [openRun, keyed, anonymous] = variants.map((variant) => ({ ...variant, summary: summarize(variant.samples) }));
    if (!openRun || !keyed || !anonymous) throw new Error('missing variant');

    // The decision alone, no HTTP: authenticate the header (hash, key and user lookups) and check.
    const header = `Bearer ${key}`;
    const direct: number[] = [];
    const anonymousDirect: number[] = [];
    for (let round = 0; round < requests; round += 1) {
      let started = performance.now();
      core.authorizer.authorize(core.authorizer.authenticate(header, '127.0.0.1'), 'read', 'bench-internal');
      direct.push(performance.now() - started);
      started = performance.now();
      core.authorizer.authorize(core.authorizer.authenticate(undefined, '127.0.0.1'), 'download', 'bench-public');
      anonymousDirect.push(performance.now() - started);
    }
    const directSummary = summarize(direct);
    const anonymousDirectSummary = summarize(anonymousDirect);
    for (const variant of [openRun, keyed, anonymous]) log(`access: ${variant.label}: p50 ${ms(variant.summary.p50)} ms, p95 ${ms(variant.summary.p95)} ms`);
    log(`access: authenticate + check alone: key p95 ${ms(directSummary.p95)} ms, anonymous p95 ${ms(anonymousDirectSummary.p95)} ms`);

    const httpRow = (label: string, summary: LatencySummary): BenchRow => ({
      benchmark: `GET version metadata p95, ${label} (HTTP)`,
      ours: summary.p95,
      unit: 'ms',
      peerLabel: 'same endpoint, auth disabled',
      peer: openRun.summary.p95,
      ratio: ratioOf(summary.p95, openRun.summary.p95),
      target: `≤ +${targetMs} ms`,
      pass: summary.p95 - openRun.summary.p95 <= targetMs,
      note: `added ${ms(summary.p95 - openRun.summary.p95)} ms at p95 (p50 ${ms(summary.p50)} vs ${ms(openRun.summary.p50)} ms), ${summary.count} requests`,
    });
    const directRow = (label: string, summary: LatencySummary): BenchRow => ({
      benchmark: `authenticate + check p95, ${label} (in process)`,
      ours: summary.p95,
      unit: 'ms',
      peerLabel: '',
      peer: null,
      ratio: null,
      target: `≤ ${targetMs} ms`,
      pass: summary.p95 <= targetMs,
      note: `p50 ${ms(summary.p50)} ms, max ${ms(summary.max)} ms, ${summary.count} calls`,
    });
    writeRows([httpRow('valid key, internal package', keyed.summary), httpRow('no key, public package', anonymous.summary), directRow('valid key', directSummary), directRow('no key', anonymousDirectSummary)]);
  } finally {
    for (const host of hosts) await host.close();
    await core.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`access benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
