import type { z } from 'zod';
import { appChannels } from './app-channels';
import { jobsChannels } from './jobs-channels';
import { packagesChannels } from './packages-channels';
import { cacheChannels } from './cache-channels';
import { registriesChannels } from './registries-channels';
import { metricsChannels } from './metrics-channels';
import { metricsUpdatedSchema } from '../domain/metrics';
import { signingChannels } from './signing-channels';
import { accessChannels } from './access-channels';
import { storageChannels } from './storage-channels';
import { mirrorsChannels } from './mirrors-channels';
import { cdnChannels } from './cdn-channels';
import { configChannels } from './config-channels';
import { backupChannels } from './backup-channels';
import { replicationChannels } from './replication-channels';
import { defineEvents } from './define';
import { jobRecordSchema } from '../domain/jobs';
import { healthSchema, notificationSchema } from '../domain/health';

/** Every request channel (UI → core), defined once. Capabilities add their map here. */
export const requestChannels = { ...appChannels, ...jobsChannels, ...packagesChannels, ...cacheChannels, ...registriesChannels, ...metricsChannels, ...signingChannels, ...accessChannels, ...storageChannels, ...mirrorsChannels, ...configChannels, ...backupChannels, ...cdnChannels, ...replicationChannels };

/** Events (core → UI). Never mixed with requests. */
export const eventChannels = defineEvents({
  'jobs.updated': jobRecordSchema,
  'health.changed': healthSchema,
  notification: notificationSchema,
  'metrics.updated': metricsUpdatedSchema,
});

export type RequestChannels = typeof requestChannels;
export type RequestChannel = keyof RequestChannels;
export type RequestInput<C extends RequestChannel> = z.input<RequestChannels[C]['input']>;
export type RequestParsedInput<C extends RequestChannel> = z.output<RequestChannels[C]['input']>;
export type RequestOutput<C extends RequestChannel> = z.output<RequestChannels[C]['output']>;

export type EventChannels = typeof eventChannels;
export type EventName = keyof EventChannels;
export type EventPayload<E extends EventName> = z.output<EventChannels[E]>;

export const requestChannelNames = Object.keys(requestChannels) as RequestChannel[];
export const eventNames = Object.keys(eventChannels) as EventName[];

export function isRequestChannel(name: unknown): name is RequestChannel {
  return typeof name === 'string' && Object.hasOwn(requestChannels, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(eventChannels, name);
}
