import { createClient, type ContractClient } from './contract-client';

/** One client per page, created before any store runs. Null: browser without a session token. */
export const client: ContractClient | null = createClient();

export function requireClient(): ContractClient {
  if (!client) throw new Error('Not connected to a Torsh Depot host.');
  return client;
}
