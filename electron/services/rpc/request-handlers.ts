import type { Core } from '../composition-root';
import type { RequestHandlers } from './request-router';
import { jobParamsByKind } from '../../../shared/domain/jobs';
import { DepotError } from '../../../shared/errors';
import { exportVersion } from '../registry/export-version';
import { signAllVersions } from '../signing/sign-versions-job';
import { localUserId } from '../access/access-control';
import { startStorageCopyJob, storageObjectView } from '../storage/storage-copy-job';
import { createMirrorsHandlers } from './mirrors-handlers';
import { createBackupHandlers } from './backup-handlers';
import { createCdnHandlers } from './cdn-handlers';
import { createReplicationHandlers } from './replication-handlers';
import { createConfigHandlers } from './config-handlers';

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
    'packages.publish': ({ source, metadata, signWith, encrypt }) => {
      const context = core.access.localContext();
      const handle = core.staging.publish(source, metadata, core.access.describe(context.principal), localUserId, { signWith, ...(encrypt ? { encrypt } : {}) });
      handle.done.then(
        (result) => result.created && core.access.record(context, 'package.publish', `package:${result.name}@${result.version}`, { digest: result.digest, size: result.size }),
        () => undefined,
      );
      return handle.record;
    },
    'packages.createFolderUpload': ({ folderName }) => core.stagedFolders.create(folderName),
    'packages.inspectFolder': ({ source }) => core.stagedFolders.inspect(source),
    'packages.packFolder': ({ source, ...fields }) => core.stagedFolders.pack(source, fields).record,
    'packages.discardFolder': async ({ id }) => {
      await core.stagedFolders.discard(id);
      return {};
    },
    'packages.discardStaged': async ({ id }) => {
      await core.staging.discard(id);
      return {};
    },
    'packages.setYanked': ({ name, version, yanked }) => {
      const updated = core.registry.setYanked(name, version, yanked);
      core.access.record(core.access.localContext(), yanked ? 'package.yank' : 'package.unyank', `package:${name}@${version}`);
      return updated;
    },
    // The passphrase or identity stays in the closure: job params record only that one was given.
    'packages.exportVersion': (request) =>
      core.jobs.start('package-export', `Save ${request.name}@${request.version}`, { name: request.name, version: request.version, directory: request.directory, decrypt: request.decrypt !== undefined }, (context) =>
        exportVersion(core.registry, request, context, { encryptor: core.encryptor, tmpDir: core.tmpDir }),
      ).record,
    'packages.prepareDownload': (request) =>
      core.jobs.start('package-export', `Prepare ${request.name}@${request.version} for download`, { name: request.name, version: request.version, decrypt: request.decrypt !== undefined }, (context) =>
        core.preparedDownloads.prepare(request, context),
      ).record,
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
    'storage.collectGarbage': (request) => core.startBlobGc(request).record,
    'storage.stats': () => core.storage.statistics(),
    'cache.stats': () => core.cache.stats(),
    'cache.list': () => core.cache.list().map(({ path: _path, ...entry }) => entry),
    'cache.clean': () => core.cache.clean(),
    'registries.list': () => core.registries.list(),
    'registries.save': (input) => core.registries.save(input),
    'registries.remove': ({ id }) => core.registries.remove(id),
    'registries.setDefault': ({ id }) => core.registries.setDefault(id),
    'registries.test': ({ id }) => core.registries.test(id),
    'metrics.series': (query) => core.metrics.series(query),
    'metrics.report': (range) => core.metrics.report(range),
    'metrics.exportReport': ({ format, ...range }) => core.metrics.exportReport(range, format),
    'metrics.alerts': () => core.metrics.alerts.list(),
    'metrics.alertHistory': ({ ruleId, limit }) => core.metrics.alerts.history(ruleId, limit),
    'metrics.saveRule': (rule) => core.metrics.alerts.saveRule(rule),
    'metrics.removeRule': ({ id }) => {
      core.metrics.alerts.removeRule(id);
      return {};
    },
    'metrics.acknowledge': ({ id }) => core.metrics.alerts.acknowledge(id),
    'metrics.silence': ({ id, durationMs }) => core.metrics.alerts.silence(id, durationMs === null ? null : core.metrics.collector.now() + durationMs),
    'signing.keys.list': () => core.keyring.list(),
    'signing.keys.generate': ({ label }) => core.keyring.generate(label),
    'signing.keys.export': ({ keyId }) => ({ publicKey: core.keyring.exportPublic(keyId) }),
    'signing.keys.retire': ({ keyId }) => core.keyring.retire(keyId),
    'signing.trust.list': () => core.trust.list(),
    'signing.trust.add': ({ publicKey, label }) => {
      core.trust.trust(publicKey, label);
      return core.trust.list();
    },
    'signing.trust.retire': ({ keyId }) => {
      core.trust.retire(keyId);
      return core.trust.list();
    },
    'signing.trust.remove': ({ keyId }) => {
      core.trust.remove(keyId);
      return core.trust.list();
    },
    'signing.signAllVersions': ({ keyId, retireKeyId }) =>
      core.jobs.start('sign-all-versions', `Sign every version with key ${keyId}`, { keyId, retireKeyId }, (context) => signAllVersions(core.registry, core.keyring, keyId, retireKeyId, context)).record,
    'access.listUsers': () => core.access.listUsers(core.access.localContext()),
    'access.createUser': (input) => core.access.createUser(core.access.localContext(), input),
    'access.updateUser': ({ id, ...changes }) => core.access.updateUser(core.access.localContext(), id, changes),
    'access.listRoles': () => core.access.listRoles(core.access.localContext()),
    'access.createRole': ({ name, permissions }) => core.access.createRole(core.access.localContext(), name, permissions),
    'access.updateRole': ({ name, permissions }) => core.access.updateRole(core.access.localContext(), name, permissions),
    'access.deleteRole': ({ name }) => (core.access.deleteRole(core.access.localContext(), name), {}),
    'access.grantRole': ({ userId, role, scope }) => core.access.grantUserRole(core.access.localContext(), userId, role, scope),
    'access.revokeGrant': ({ userId, grantId }) => (core.access.revokeGrant(core.access.localContext(), userId, grantId), {}),
    'access.listKeys': ({ userId }) => core.access.listKeys(core.access.localContext(), userId),
    'access.createKey': ({ userId, label, expiresAt, permissions }) =>
      core.access.createKey(core.access.localContext(), { userId, ...(label !== undefined ? { label } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}), ...(permissions !== undefined ? { permissions } : {}) }),
    'access.revokeKey': ({ id }) => (core.access.revokeKey(core.access.localContext(), id), {}),
    'access.listPackages': () => core.access.listPackageAccess(core.access.localContext()),
    'access.updatePackage': ({ name, ...changes }) => core.access.setPackageAccess(core.access.localContext(), name, changes),
    'access.settings': () => ({ defaultVisibility: core.access.defaultVisibility() }),
    'access.setDefaultVisibility': ({ visibility }) => {
      core.access.setDefaultVisibility(core.access.localContext(), visibility);
      return { defaultVisibility: core.access.defaultVisibility() };
    },
    'access.audit': (filter) => core.access.audit(core.access.localContext(), filter),
    ...createMirrorsHandlers(core),
    ...createConfigHandlers(core),
    ...createBackupHandlers(core),
    ...createCdnHandlers(core),
    ...createReplicationHandlers(core),
  };
}
