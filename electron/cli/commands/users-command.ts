import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { registryOptionsHelp } from './command-options';
import { accessCall, accessOptionsHelp, columns, printResult } from './access-command-support';

export const usersUsage = `Usage: torsh-depot users <list|create|activate|deactivate|grant|grants|revoke-grant|whoami> [args] --registry URL [--api-key KEY]

Manages a registry's users and their role grants, so a team can script onboarding.
  list                                 every user: id, name, email, active
  create NAME --email EMAIL            adds a user; prints its id
  activate ID | deactivate ID          a deactivated user's keys stop working at once
  grant ID --role ROLE [--scope S]     scope "*" (default) or a package pattern: vision/*, resnet*
  grants ID                            the user's grants
  revoke-grant ID GRANT_ID
  whoami                               the key's user and what it may do (any valid key)
${registryOptionsHelp}
${accessOptionsHelp}`;

export async function usersCommand(args: string[], io: CliIo): Promise<number> {
  const actions = ['list', 'create', 'activate', 'deactivate', 'grant', 'grants', 'revoke-grant', 'whoami'] as const;
  const counts: Record<(typeof actions)[number], number> = { list: 0, create: 1, activate: 1, deactivate: 1, grant: 1, grants: 1, 'revoke-grant': 2, whoami: 0 };
  const action = args[0] as (typeof actions)[number] | undefined;
  const count = action !== undefined && action in counts ? counts[action] : 0;
  const call = accessCall(args, io, actions, { email: { type: 'string' }, role: { type: 'string' }, scope: { type: 'string' } }, { min: count, max: count, names: 'the arguments (see --help)' });
  const { access, values, positionals } = call;
  const [first = '', second = ''] = positionals;
  switch (call.action) {
    case 'list': {
      const users = await access.listUsers();
      printResult(io, values.json, users, () => (users.length === 0 ? ['no users'] : columns(users.map((user) => [user.id, user.name, user.email, user.active ? 'active' : 'deactivated']))));
      break;
    }
    case 'create': {
      if (typeof values.email !== 'string') throw new UsageError('--email is required');
      const user = await access.createUser(first, values.email);
      printResult(io, values.json, user, () => [`created user ${user.name}: ${user.id}`]);
      break;
    }
    case 'activate':
    case 'deactivate': {
      const user = await access.updateUser(first, { active: call.action === 'activate' });
      printResult(io, values.json, user, () => [`${user.name} is ${user.active ? 'active' : 'deactivated'}`]);
      break;
    }
    case 'grant': {
      if (typeof values.role !== 'string') throw new UsageError('--role is required');
      const scope = typeof values.scope === 'string' ? values.scope : '*';
      const grant = await access.grant(first, values.role, scope);
      printResult(io, values.json, grant, () => [`granted ${grant.role} on ${grant.scope} to ${first} (grant ${grant.id})`]);
      break;
    }
    case 'grants': {
      const grants = await access.grantsOf(first);
      printResult(io, values.json, grants, () => (grants.length === 0 ? ['no grants'] : columns(grants.map((grant) => [grant.id, grant.role, grant.scope]))));
      break;
    }
    case 'revoke-grant': {
      await access.revokeGrant(first, second);
      printResult(io, values.json, { revoked: second }, () => [`revoked grant ${second}`]);
      break;
    }
    case 'whoami': {
      const whoami = await access.whoami();
      printResult(io, values.json, whoami, () => [
        `${whoami.user?.name ?? 'anonymous'}${whoami.user ? ` (${whoami.user.id})` : ''}`,
        `permissions: ${whoami.permissions.join(', ') || 'none registry-wide'}`,
        ...whoami.grants.map((grant) => `grant: ${grant.role} on ${grant.scope}`),
        ...(whoami.key?.permissions ? [`this key is narrowed to: ${whoami.key.permissions.join(', ')}`] : []),
      ]);
      break;
    }
  }
  return exitCodes.ok;
}
