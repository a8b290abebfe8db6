import type { Core } from '../composition-root';
import type { RequestHandlers } from './request-router';
import { jobParamsByKind } from '../../../shared/domain/jobs';
import { DepotError } from '../../../shared/errors';
import { exportVersion } from '../registry/export-version';
import { startStorageCopyJob, storageObjectView } from '../storage/storage-copy-job';

/** Maps every contract channel onto the services; thin on purpose. */
export function createRequestHandlers(core: Omit<Core, 'router'>): RequestHandlers {
  return {
    'app.health': () => core.health.current(),
    'settings.get': () => core.settings.get(),
    'settings.update': (input) => core.settings.update(input),
    'app.chooseFolder': async ({ title }) => {
      if (!core.dialogs) throw new DepotError('UNAVAILABLE', 'Folder dialogs exist only in the desktop app.');
      return { path: await core.dialogs.chooseFolder(title) };
    },
    'jobs.list': ({ limit, status }) => core.jobs.list(limit, status),
    'jobs.get': ({ id }) => core.jobs.get(id),
    'jobs.start': (request) => {
      switch (request.kind) {
        case 'data-folder-check': {
          const params = jobParamsByKind['data-folder-check'].parse(request.params);
          return core.startDataFolderCheck(params.sizeMiB).record;
        }
      }
    },
    'jobs.cancel': ({ id }) => core.jobs.cancel(id),
    'jobs.clearHistory': () => ({ removed: core.jobs.clearHistory() }),
    'packages.search': ({ query, page, perPage }) => core.registry.search(query, page, perPage),
    'packages.listVersions': ({ offset, limit }) => core.registry.listVersionRows(offset, limit),
    'packages.get': ({ name }) => core.registry.listVersions(name),
    'packages.version': ({ name, version }) => core.registry.getVersion(name, version),
    'packages.inspect': ({ source }) => core.staging.inspect(source),
    // The UI's user owns the app (desktop) or holds the session token (host): the local admin.
    'packages.publish': ({ source, metadata }) => core.staging.publish(source, metadata, 'local-user').record,
    'packages.discardStaged': async ({ id }) => {
      await core.staging.discard(id);
      return {};
    },
    'packages.setYanked': ({ name, version, yanked }) => core.registry.setYanked(name, version, yanked),
    'packages.exportVersion': ({ name, version, directory }) =>
      core.jobs.start('package-export', `Save ${name}@${version}`, { name, version, directory }, (context) => exportVersion(core.registry, name, version, directory, context)).record,
    'packages.registryInfo': () => ({ httpBaseUrl: core.registryEndpoint.url() }),
    'storage.list': () => core.storage.list(),
    'storage.save': ({ config, secrets }) => core.storage.save(config, secrets),
    'storage.remove': ({ id }) => core.storage.remove(id),
    'storage.test': ({ id }) => core.storage.test(id),
    'storage.usage': ({ id, prefix }) => core.storage.usage(id, prefix),
    'storage.browse': async ({ id, prefix, cursor, limit }) => {
      const page = await core.storage.browse(id, prefix, cursor, limit);
      return { objects: page.objects.map(storageObjectView), nextCursor: page.nextCursor };
    },
    'storage.head': async ({ id, key }) => {
      const info = await core.storage.head(id, key);
      return info ? storageObjectView(info) : null;
    },
    'storage.copy': (input) => startStorageCopyJob(core.jobs, core.storage, input).record,
    'storage.stats': () => core.storage.statistics(),
    'cache.stats': () => core.cache.stats(),
    'cache.list': () => core.cache.list().map(({ path: _path, ...entry }) => entry),
    'cache.clean': () => core.cache.clean(),
    'registries.list': () => core.registries.list(),
    'registries.save': (input) => core.registries.save(input),
    'registries.remove': ({ id }) => core.registries.remove(id),
    'registries.setDefault': ({ id }) => core.registries.setDefault(id),
    'registries.test': ({ id }) => core.registries.test(id),
  };
}
