import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { DepotError } from '../../shared/errors';

/** Reads a small JSON request body (bounded) and validates it against a schema. */
export async function readJsonBody<Schema extends z.ZodType>(request: IncomingMessage, schema: Schema, maxBytes = 64 * 1024): Promise<z.output<Schema>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new DepotError('PAYLOAD_TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`);
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = size === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new DepotError('VALIDATION_FAILED', 'The request body is not valid JSON.');
  }
  const checked = schema.safeParse(parsed);
  if (!checked.success) {
    throw new DepotError('VALIDATION_FAILED', `Invalid request: ${checked.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')}`);
  }
  return checked.data;
}
