import type { Core } from '../composition-root';
import type { RequestHandlers } from './request-router';
import { writeMirrorsSettings } from '../../../shared/domain/mirrors';

type MirrorsChannel = Extract<keyof RequestHandlers, `mirrors.${string}`>;

/** The `mirrors.*` channels (their own file: request-handlers.ts passed the size where capabilities split out). */
export function createMirrorsHandlers(core: Omit<Core, 'router'>): Pick<RequestHandlers, MirrorsChannel> {
  return {
    'mirrors.list': () => core.mirrors.list(),
    'mirrors.get': ({ id }) => core.mirrors.get(id),
    'mirrors.add': ({ mirror }) => core.mirrors.add(mirror),
    'mirrors.update': ({ id, changes }) => core.mirrors.update(id, changes),
    'mirrors.remove': async ({ id }) => {
      await core.mirrors.remove(id);
      return {};
    },
    'mirrors.check': ({ id }) => core.mirrors.check(id),
    'mirrors.sync': async ({ ids, prune }) => (await core.mirrors.startSync({ prune, ...(ids ? { ids } : {}) })).record,
    'mirrors.stats': () => core.mirrors.stats(),
    'mirrors.rank': (request) => core.mirrors.rank(request),
    'mirrors.section.get': async () => writeMirrorsSettings(await core.mirrors.settings()),
    'mirrors.section.set': async (settings) => writeMirrorsSettings(await core.mirrors.setSettings(settings)),
    'mirrors.history': ({ id, limit }) => core.mirrors.history(id, limit),
  };
}
