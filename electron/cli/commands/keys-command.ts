import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { positiveIntOption, registryOptionsHelp } from './command-options';
import { accessCall, accessOptionsHelp, columns, parsePermissions, printResult } from './access-command-support';

export const keysUsage = `Usage: torsh-depot keys <list|create|revoke> [ID] [options] --registry URL [--api-key KEY]

Manages a registry's API keys. A new key is printed once; the registry keeps only its hash.
  list [--user ID]                     keys (never their secrets): id, user, prefix, expiry, last use
  create --user ID [--label TEXT] [--expires ISO-DATE | --expires-in DAYS] [--permission P]...
                                       --permission narrows the key below its user's permissions
  revoke ID                            the key stops working with the next request
${registryOptionsHelp}
${accessOptionsHelp}`;

export async function keysCommand(args: string[], io: CliIo): Promise<number> {
  const count = args[0] === 'revoke' ? 1 : 0;
  const call = accessCall(
    args,
    io,
    ['list', 'create', 'revoke'],
    { user: { type: 'string' }, label: { type: 'string' }, expires: { type: 'string' }, 'expires-in': { type: 'string' }, permission: { type: 'string', multiple: true } },
    { min: count, max: count, names: 'the key id' },
  );
  const { access, values, positionals } = call;
  const user = typeof values.user === 'string' ? values.user : undefined;
  switch (call.action) {
    case 'list': {
      const keys = await access.listKeys(user);
      printResult(io, values.json, keys, () =>
        keys.length === 0
          ? ['no keys']
          : columns(
              keys.map((key) => [
                key.id,
                key.user_id ?? '-',
                `${key.prefix}…`,
                key.revoked_at ? 'revoked' : key.expires_at ? `expires ${key.expires_at}` : 'no expiry',
                key.last_used_at ? `used ${key.last_used_at}` : 'never used',
                key.label,
              ]),
            ),
      );
      break;
    }
    case 'create': {
      if (user === undefined) throw new UsageError('--user is required');
      if (values.expires !== undefined && values['expires-in'] !== undefined) throw new UsageError('give --expires or --expires-in, not both');
      const expiresIn = values['expires-in'] === undefined ? undefined : positiveIntOption(values['expires-in'] as string, '--expires-in', 1);
      const expiresAt = typeof values.expires === 'string' ? values.expires : expiresIn !== undefined ? new Date(Date.now() + expiresIn * 86_400_000).toISOString() : undefined;
      const permissions = parsePermissions(values.permission as string[] | undefined);
      const created = await access.createKey({
        userId: user,
        ...(typeof values.label === 'string' ? { label: values.label } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(permissions !== undefined ? { permissions } : {}),
      });
      printResult(io, values.json, created, () => [
        created.key,
        `key ${created.id} for ${user}${created.expires_at ? `, expires ${created.expires_at}` : ''}${created.permissions ? `, narrowed to ${created.permissions.join(', ')}` : ''}: store it now, it is not shown again`,
      ]);
      break;
    }
    case 'revoke': {
      const id = positionals[0] ?? '';
      await access.revokeKey(id);
      printResult(io, values.json, { revoked: id }, () => [`revoked key ${id}`]);
      break;
    }
  }
  return exitCodes.ok;
}
