import { z } from 'zod';

/** Every permission the registry knows; grants, roles and narrowed keys are sets of these. */
export const permissions = [
  'ViewMetadata',
  'DownloadPackage',
  'UploadPackage',
  'ModifyMetadata',
  'DeletePackage',
  'YankPackage',
  'ManageVersions',
  'ManageOwners',
  'ViewStats',
  'ManageSecurity',
  'ManageInfrastructure',
  /** Add, change, remove, check and sync mirrors (viewing them needs ViewStats). */
  'ManageMirrors',
  /** Backup repositories, runs, verify, restore, retention, prune and recovery points. */
  'ManageBackups',
  /** Receive replicas as a registry peer (`PUT /api/v1/replication/replica/…`). */
  'Replicate',
] as const;
export const permissionSchema = z.enum(permissions);
export type Permission = z.infer<typeof permissionSchema>;

/** Permissions about one package: what its owners hold on it. */
export const packagePermissions: readonly Permission[] = [
  'ViewMetadata',
  'DownloadPackage',
  'UploadPackage',
  'ModifyMetadata',
  'DeletePackage',
  'YankPackage',
  'ManageVersions',
  'ManageOwners',
  'ViewStats',
];

/** Built-in roles (docs/access-control.md explains each); they cannot be edited or deleted. */
export const builtInRoles: Readonly<Record<string, readonly Permission[]>> = {
  admin: permissions,
  maintainer: packagePermissions,
  'ml-engineer': ['ViewMetadata', 'DownloadPackage', 'UploadPackage', 'ModifyMetadata', 'YankPackage', 'ManageVersions', 'ViewStats'],
  'data-scientist': ['ViewMetadata', 'DownloadPackage', 'ViewStats'],
  viewer: ['ViewMetadata', 'DownloadPackage'],
};
export const builtInRoleNames = Object.keys(builtInRoles);

export const visibilities = ['public', 'internal', 'private'] as const;
export const visibilitySchema = z.enum(visibilities);
export type Visibility = z.infer<typeof visibilitySchema>;

export const roleNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -, starting with a letter');
/** `*` or a package-name pattern where `*` matches any run of characters (`vision/*`, `resnet*`). */
export const scopeSchema = z.string().regex(/^(\*|[a-z0-9*][a-z0-9._*/-]{0,213})$/, '"*" or a package pattern such as vision/* or resnet*');
export const userIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export const userSchema = z.object({ id: z.string(), name: z.string(), email: z.string(), active: z.boolean() });
export type User = z.infer<typeof userSchema>;

export const grantSchema = z.object({ id: z.string(), user_id: z.string(), role: z.string(), scope: z.string(), created_at: z.string() });
export type Grant = z.infer<typeof grantSchema>;

export const roleSchema = z.object({ name: z.string(), builtin: z.boolean(), permissions: z.array(permissionSchema), grants: z.array(grantSchema) });
export type Role = z.infer<typeof roleSchema>;

export const apiKeyInfoSchema = z.object({
  id: z.string(),
  user_id: z.string().nullable(),
  label: z.string(),
  prefix: z.string(),
  /** null: the key carries all of its user's permissions; otherwise at most these. */
  permissions: z.array(permissionSchema).nullable(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
});
export type ApiKeyInfo = z.infer<typeof apiKeyInfoSchema>;

export const packageAccessSchema = z.object({ name: z.string(), visibility: visibilitySchema, owners: z.array(z.string()) });
export type PackageAccess = z.infer<typeof packageAccessSchema>;

export const auditEventSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor_id: z.string().nullable(),
  actor: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  source: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;

export const auditFilterSchema = z.object({
  since: z.string().max(40).optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

/** True when `name` falls under `scope` (`*` is everything; `*` inside a pattern matches any run). */
export function scopeMatches(scope: string, name: string): boolean {
  if (scope === '*') return true;
  if (!scope.includes('*')) return scope === name;
  const pattern = scope
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(name);
}

// Request bodies of the HTTP API (and the contract), validated in the core.

export const createUserRequestSchema = z.object({ name: z.string().trim().min(1).max(100), email: z.email().max(200) }).strict();
export const updateUserRequestSchema = z
  .object({ active: z.boolean().optional(), name: z.string().trim().min(1).max(100).optional(), email: z.email().max(200).optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to change');
export const createRoleRequestSchema = z.object({ name: roleNameSchema, permissions: z.array(permissionSchema).max(permissions.length * 2) }).strict();
export const updateRoleRequestSchema = z.object({ permissions: z.array(permissionSchema).max(permissions.length * 2) }).strict();
export const createGrantRequestSchema = z.object({ role: z.string().min(1).max(63), scope: scopeSchema }).strict();
export const createKeyRequestSchema = z
  .object({
    user_id: userIdSchema,
    label: z.string().trim().max(100).optional(),
    expires_at: z.string().max(40).nullable().optional(),
    permissions: z.array(permissionSchema).max(permissions.length * 2).nullable().optional(),
  })
  .strict();
export const updatePackageAccessRequestSchema = z
  .object({ visibility: visibilitySchema.optional(), owners: z.array(userIdSchema).max(100).optional() })
  .strict()
  .refine((body) => body.visibility !== undefined || body.owners !== undefined, 'give visibility and/or owners');
