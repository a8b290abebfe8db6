import type { Core } from '../services/composition-root';
import type { Logger } from '../services/logger';
import { startHttpHost, type RunningHost } from '../host/http-host';
import { createRegistryRoutes } from '../host/registry-routes';
import { createCoreMirrorsRoutes } from '../host/mirrors-routes';
import { createCoreCdnRoutes } from '../host/cdn-routes';
import { createCoreBackupRoutes } from '../host/backup-routes';
import { createMetricsRoute } from '../host/metrics-route';

export interface EmbeddedRegistry {
  /** Starts or stops the server to match the `registry.serveFromDesktop` setting. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The desktop app can serve its registry's HTTP API (off by default, 127.0.0.1 only) so CI jobs
 * and teammates' tools on this machine can pull from it. No UI is served: the window uses IPC.
 */
export function createEmbeddedRegistry(core: Core, logger: Logger): EmbeddedRegistry {
  let running: RunningHost | null = null;
  let runningPort: number | null = null;
  let queue = Promise.resolve();

  const stop = async (): Promise<void> => {
    if (!running) return;
    await running.close();
    running = null;
    runningPort = null;
    core.registryEndpoint.set(null);
    logger.info('embedded registry stopped');
  };

  const apply = async (): Promise<void> => {
    const { serveFromDesktop, desktopPort } = core.settings.get().registry;
    if (!serveFromDesktop) return stop();
    if (running && runningPort === desktopPort) return;
    await stop();
    try {
      running = await startHttpHost({
        core,
        host: '127.0.0.1',
        port: desktopPort,
        staticDir: null,
        apiRoutes: [
          createCoreMirrorsRoutes(core),
          createCoreCdnRoutes(core),
          createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => core.settings.get().registry.maxPackageBytes, logger, metrics: core.metrics.collector, presignedDownloads: () => core.settings.get().storage.presignedDownloads, route: (request) => core.cdn.route(request) }),
          createMetricsRoute({ metrics: core.metrics.collector, authorizer: core.authorizer, requireKey: () => core.settings.get().metrics.requireKeyForEndpoint }),
          createCoreBackupRoutes(core),
        ],
      });
      runningPort = desktopPort;
      core.registryEndpoint.set(running.url.replace(/\/$/, ''));
      logger.info(`embedded registry listening on ${running.url}`);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `port ${desktopPort} is already in use` : (error as Error).message;
      core.events.emit('notification', { title: 'Registry server not started', body: `Could not listen on 127.0.0.1:${desktopPort}: ${reason}.`, level: 'error' });
      logger.warn(`embedded registry not started: ${reason}`);
    }
  };

  // Setting changes may race; apply them one after another.
  const sync = (): Promise<void> => {
    queue = queue.then(apply, apply);
    return queue;
  };
  return {
    sync,
    close: () => {
      queue = queue.then(stop, stop);
      return queue;
    },
  };
}
