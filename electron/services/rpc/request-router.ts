import { type z } from 'zod';
import {
  isRequestChannel,
  requestChannels,
  type RequestChannel,
  type RequestOutput,
  type RequestParsedInput,
} from '../../../shared/contract/channels';
import { DepotError, toErrorEnvelope } from '../../../shared/errors';
import type { ResponseResult } from '../../../shared/contract/wire';
import type { Logger } from '../logger';

/** Identifies who sent a request; later used by access control and the audit log. */
export interface RequestContext {
  readonly origin: 'desktop' | 'websocket' | 'cli' | 'test';
}

export type RequestHandlers = {
  [C in RequestChannel]: (input: RequestParsedInput<C>, context: RequestContext) => Promise<RequestOutput<C>> | RequestOutput<C>;
};

/**
 * The one entry point every shell uses: unknown channels and invalid input are refused before any
 * service runs; errors leave as a typed envelope without stack traces.
 */
export class RequestRouter {
  constructor(
    private readonly handlers: RequestHandlers,
    private readonly logger: Logger,
  ) {}

  async dispatch(channel: unknown, rawInput: unknown, context: RequestContext): Promise<ResponseResult> {
    if (!isRequestChannel(channel)) {
      return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: `Unknown channel: ${String(channel).slice(0, 100)}` } };
    }
    const spec = requestChannels[channel];
    const parsed = spec.input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      return { ok: false, error: { code: 'VALIDATION_FAILED', message: `Invalid input for ${channel}: ${describeIssues(parsed.error)}` } };
    }
    try {
      const handler = this.handlers[channel] as (input: unknown, context: RequestContext) => Promise<unknown> | unknown;
      const result = await handler(parsed.data, context);
      const checked = spec.output.safeParse(result);
      if (!checked.success) {
        this.logger.error(`handler for ${channel} returned output outside the contract: ${describeIssues(checked.error)}`);
        return { ok: false, error: { code: 'INTERNAL', message: `The core returned an invalid answer for ${channel}.` } };
      }
      return { ok: true, result: checked.data };
    } catch (error) {
      if (!(error instanceof DepotError)) this.logger.error(`handler for ${channel} failed`, error);
      return { ok: false, error: toErrorEnvelope(error) };
    }
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}
