import { afterEach, describe, expect, it } from 'vitest';
import { createCore } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import { makeTempDir } from '../../../support/temp-dir';
import { makeTestPackage } from '../../../support/packages';
import { thrown } from '../../../support/depot-errors';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the core records through the metrics collector', () => {
  it('counts a publish from the UI as an upload, and every access decision as allowed or denied', async () => {
    const data = makeTempDir();
    const work = makeTempDir();
    cleanups.push(data.cleanup, work.cleanup);
    const core = createCore({ dataDir: data.dir, shell: 'headless', logger: silentLogger, metrics: { flushIntervalMs: 0, evaluationIntervalMs: 0, retentionIntervalMs: 0 } });
    cleanups.push(() => core.close());

    const file = await makeTestPackage(work.dir, { name: 'counted', version: '1.0.0' });
    await core.staging.publish({ kind: 'path', path: file }, {}, 'local-user').done;
    core.authorizer.authorize(core.access.localContext().principal, 'read', 'counted');
    // An internal package is hidden from anonymous callers: the same 404 as a missing one.
    expect(thrown(() => core.authorizer.authorize({ kind: 'anonymous' }, 'read', 'counted'))).toMatchObject({ code: 'NOT_FOUND', reason: 'not-found' });

    const text = core.metrics.collector.renderPrometheus();
    expect(text).toMatch(/^torsh_depot_uploads_total\{target="ui"\} 1$/m);
    expect(text).toMatch(/^torsh_depot_accesses_total\{action="ViewMetadata",outcome="allowed"\} 1$/m);
    expect(text).toMatch(/^torsh_depot_accesses_total\{action="ViewMetadata",outcome="denied"\} 1$/m);
  });
});
