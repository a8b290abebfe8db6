import type { Core } from '../composition-root';
import type { RequestHandlers } from './request-router';
import { jobParamsByKind } from '../../../shared/domain/jobs';

/** Maps every contract channel onto the services; thin on purpose. */
export function createRequestHandlers(core: Omit<Core, 'router'>): RequestHandlers {
  return {
    'app.health': () => core.health.current(),
    'settings.get': () => core.settings.get(),
    'settings.update': (input) => core.settings.update(input),
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
  };
}
