import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { registryOptionsHelp } from './command-options';
import { accessCall, accessOptionsHelp, columns, parsePermissions, printResult } from './access-command-support';

export const rolesUsage = `Usage: torsh-depot roles <list|create|update|delete> [NAME] [--permission P]... --registry URL [--api-key KEY]

Lists a registry's roles (built-in and custom) and manages custom ones.
  list                                 every role with its permissions and how often it is granted
  create NAME --permission P...        P: ViewMetadata, DownloadPackage, UploadPackage, … (repeat or comma-separate)
  update NAME --permission P...        replaces a custom role's permissions
  delete NAME                          refused while the role is granted
${registryOptionsHelp}
${accessOptionsHelp}`;

export async function rolesCommand(args: string[], io: CliIo): Promise<number> {
  const count = args[0] === 'list' ? 0 : 1;
  const call = accessCall(args, io, ['list', 'create', 'update', 'delete'], { permission: { type: 'string', multiple: true } }, { min: count, max: count, names: 'the role name' });
  const { access, values, positionals } = call;
  const name = positionals[0] ?? '';
  const permissions = parsePermissions(values.permission as string[] | undefined);
  switch (call.action) {
    case 'list': {
      const roles = await access.listRoles();
      printResult(io, values.json, roles, () => columns(roles.map((role) => [role.name, role.builtin ? 'built-in' : 'custom', `${role.grants.length} grant(s)`, role.permissions.join(', ')])));
      break;
    }
    case 'create':
    case 'update': {
      if (!permissions || permissions.length === 0) throw new UsageError('--permission is required');
      const role = call.action === 'create' ? await access.createRole(name, permissions) : await access.updateRole(name, permissions);
      printResult(io, values.json, role, () => [`${call.action === 'create' ? 'created' : 'updated'} role ${role.name}: ${role.permissions.join(', ')}`]);
      break;
    }
    case 'delete': {
      await access.deleteRole(name);
      printResult(io, values.json, { deleted: name }, () => [`deleted role ${name}`]);
      break;
    }
  }
  return exitCodes.ok;
}
