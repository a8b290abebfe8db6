import { z } from 'zod';
import { errorEnvelopeSchema } from '../errors';

/** Messages carried over the headless host's WebSocket (and mirrored by the Electron IPC bridge). */
export const clientMessageSchema = z.object({
  type: z.literal('request'),
  id: z.number().int().nonnegative(),
  channel: z.string().max(200),
  input: z.unknown(),
});
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export const responseResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: errorEnvelopeSchema }),
]);
export type ResponseResult = z.infer<typeof responseResultSchema>;

export const serverMessageSchema = z.union([
  z.object({ type: z.literal('response'), id: z.number().int() }).and(responseResultSchema),
  z.object({ type: z.literal('event'), event: z.string(), payload: z.unknown() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** Name of the global object the desktop preload exposes to the renderer. */
export const desktopBridgeKey = 'torshDepot';

/** The preload's bridge: the only surface the sandboxed renderer can reach. */
export interface DesktopBridge {
  invoke(channel: string, input: unknown): Promise<ResponseResult>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  /** The real path of a file the user dropped (Electron's webUtils); null when it has none. */
  pathForFile(file: File): string | null;
}

/** IPC channel name used for a contract request channel. */
export function ipcChannelFor(channel: string): string {
  return `torsh-depot:${channel}`;
}
export const ipcEventChannel = 'torsh-depot:event';
