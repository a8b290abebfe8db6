import type { z } from 'zod';

/** One request channel: the single place its input and output shapes are written down. */
export interface RequestChannelSpec<Input extends z.ZodType = z.ZodType, Output extends z.ZodType = z.ZodType> {
  readonly input: Input;
  readonly output: Output;
  readonly summary: string;
}

export function defineRequests<const T extends Record<string, RequestChannelSpec>>(channels: T): T {
  return channels;
}

export function defineEvents<const T extends Record<string, z.ZodType>>(events: T): T {
  return events;
}
