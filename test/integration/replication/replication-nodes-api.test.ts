import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { runCliProcess, startServe, stopAllServing } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { keyVariable, nodeEndpoint, readRecord, sectionFor, useRegions, type Region } from './replication-support';

const adminKey = 'replication-nodes-admin-key-0123';
const world = useRegions('torsh-replication-nodes-');
const three = world.three;
const cleanups = world.cleanups;
afterAll(() => stopAllServing());
const auth = { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' };

async function serve(dataDir: string, config?: string): Promise<string> {
  const host = await startServe(['--port', '0', '--data-dir', dataDir, ...(config ? ['--config', config] : [])], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  cleanups.push(() => host.stop());
  return `${new URL(host.url).origin}/api/v1/replication`;
}

async function call(url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const answer = await fetch(url, body === undefined ? { headers: auth } : { method: 'POST', headers: auth, body: JSON.stringify(body) });
  return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
}

describe('replication nodes and rules: depot.yaml through the one loader, then changed over HTTP and kept', () => {
  it('serve --config takes the section (durations as 30s), nodes and rules are added, updated, refused and removed over HTTP, and survive a restart without --config', async () => {
    const data = makeTempDir('torsh-replication-nodes-data-');
    cleanups.push(data.cleanup);
    const [us, eu, ap] = three as [Region, Region, Region];
    const config = path.join(world.scratch, 'depot.yaml');
    writeFileSync(config, toYaml({ replication: sectionFor([us, eu], { replication_factor: 2, ack_timeout: '30s', anti_entropy_interval: '10m', consistency: 'quorum' }) }));
    let api = await serve(data.dir, config);

    const rules = await call(`${api}/rules`);
    expect(rules.json).toMatchObject({ replication_factor: 2, consistency: 'quorum', rules: [] });
    expect(((await call(`${api}/nodes`)).json.nodes as Array<{ id: string }>).map((node) => node.id)).toEqual(['us', 'eu']);

    // Added: the same names as in depot.yaml.
    const credentials = { access_key_id: `\${${keyVariable}}`, secret_access_key: `\${${keyVariable}}` };
    const added = await call(`${api}/nodes`, { node: { id: 'ap', region: 'asia-east1', endpoint: nodeEndpoint(ap), capacity: '1GiB', credentials } });
    expect(added.status).toBe(200);
    expect((added.json.nodes as Array<{ id: string; capacity?: string }>).find((node) => node.id === 'ap')?.capacity).toBe('1GiB');
    // Updated in place (by id).
    const updated = await call(`${api}/nodes`, { node: { id: 'eu', region: 'europe-west4', endpoint: nodeEndpoint(eu), priority: 5, credentials } });
    expect((updated.json.nodes as Array<{ id: string; priority: number }>).map((node) => [node.id, node.priority])).toEqual([
      ['us', 1],
      ['eu', 5],
      ['ap', 1],
    ]);
    // Refused with the field named, nothing changed.
    const badRegion = await call(`${api}/nodes`, { node: { id: 'xx', region: 'atlantis-1', endpoint: nodeEndpoint(ap) } });
    expect(badRegion.status).toBe(400);
    expect(JSON.stringify(badRegion.json)).toContain('node.region');
    const inline = await call(`${api}/nodes`, { node: { id: 'xx', region: 'us-east-1', endpoint: nodeEndpoint(ap), credentials: { secret_access_key: 'plain-text' } } });
    expect(inline.status).toBe(400);
    expect(JSON.stringify(inline.json)).toContain('never inline');
    expect((await call(`${api}/nodes`, { remove: 'nope' })).status).toBe(404);
    expect((await call(`${api}/nodes`, {})).status).toBe(400);
    // A viewer cannot change nodes.
    const anonymous = await fetch(`${api}/nodes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ remove: 'us' }) });
    expect([401, 403]).toContain(anonymous.status);

    const rule = await call(`${api}/rules`, { rule: { name: 'vision', packages: 'vision-*', trigger: 'schedule', interval: '30s', consistency: 'strong' } });
    expect(rule.status).toBe(200);
    expect(rule.json.rules).toEqual([expect.objectContaining({ name: 'vision', interval: '30s', consistency: 'strong' })]);
    const noInterval = await call(`${api}/rules`, { rule: { name: 'nightly', trigger: 'schedule' } });
    expect(noInterval.status).toBe(400);
    expect(JSON.stringify(noInterval.json)).toContain('rules.1.interval');
    expect((await call(`${api}/nodes`, { remove: 'eu' })).status).toBe(200);

    // The CLI: the same fields, checked by the registry.
    const cli = (args: string[]) => runCliProcess(['replication', ...args, '--registry', new URL(api).origin], { ...process.env, TORSH_DEPOT_API_KEY: adminKey });
    const ruleAdded = await cli(['rules', 'add', 'nightly', '--packages', 'nlp/*', '--label', 'prod', '--consistency', 'eventual']);
    expect(ruleAdded.stdout).toContain('rule nightly saved; rules: vision, nightly');
    expect(ruleAdded.code).toBe(0);
    const refused = await cli(['nodes', 'add', 'zz', '--region', 'atlantis-1', '--endpoint', nodeEndpoint(ap)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('node.region');
    expect((await cli(['rules', 'remove', 'nightly'])).stdout).toContain('rules: vision');

    // Restarted without --config: the stored section is in force, and a publish is placed on its nodes.
    for (const cleanup of cleanups.splice(0).reverse().filter((entry) => entry !== data.cleanup)) await cleanup();
    cleanups.push(data.cleanup);
    api = await serve(data.dir);
    expect(((await call(`${api}/nodes`)).json.nodes as Array<{ id: string }>).map((node) => node.id)).toEqual(['us', 'ap']);
    expect((await call(`${api}/rules`)).json.rules).toEqual([expect.objectContaining({ name: 'vision', interval: '30s' })]);
    const file = await makeTestPackage(world.scratch, { name: 'vision-net', version: '1.0.0', files: { 'models/weights.pt': 4096 } });
    const published = await fetch(`${api.replace('/replication', '')}/packages/vision-net/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: readFileSync(file) });
    expect(published.status).toBe(201);
    // strong (the rule's level): both remaining nodes hold the record before the publish answered.
    expect(await readRecord(us, 'vision-net', '1.0.0')).not.toBeNull();
    expect(await readRecord(ap, 'vision-net', '1.0.0')).not.toBeNull();
    expect(await readRecord(eu, 'vision-net', '1.0.0')).toBeNull();
  });
});
