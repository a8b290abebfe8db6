import { z } from 'zod';
import { defineRequests } from './define';
import {
  apiKeyInfoSchema,
  auditEventSchema,
  auditFilterSchema,
  createRoleRequestSchema,
  createUserRequestSchema,
  grantSchema,
  packageAccessSchema,
  permissionSchema,
  roleNameSchema,
  roleSchema,
  scopeSchema,
  userIdSchema,
  userSchema,
  visibilitySchema,
} from '../domain/access';

const none = z.object({}).strict();

/** Access control from the app's own UI, acting as the local user (admin of this registry). */
export const accessChannels = defineRequests({
  'access.listUsers': { input: none, output: z.array(userSchema), summary: 'Every user of this registry.' },
  'access.createUser': { input: createUserRequestSchema, output: userSchema, summary: 'Add a user.' },
  'access.updateUser': {
    input: z.object({ id: userIdSchema, active: z.boolean().optional(), name: z.string().trim().min(1).max(100).optional(), email: z.email().max(200).optional() }).strict(),
    output: userSchema,
    summary: 'Activate, deactivate or rename a user.',
  },
  'access.listRoles': { input: none, output: z.array(roleSchema), summary: 'Built-in and custom roles with their permissions and grants.' },
  'access.createRole': { input: createRoleRequestSchema, output: roleSchema, summary: 'Add a custom role.' },
  'access.updateRole': { input: z.object({ name: roleNameSchema, permissions: z.array(permissionSchema).max(30) }).strict(), output: roleSchema, summary: "Change a custom role's permissions." },
  'access.deleteRole': { input: z.object({ name: roleNameSchema }).strict(), output: none, summary: 'Delete a custom role that is not granted.' },
  'access.grantRole': { input: z.object({ userId: userIdSchema, role: z.string().min(1).max(63), scope: scopeSchema }).strict(), output: grantSchema, summary: 'Grant a role on * or a package pattern.' },
  'access.revokeGrant': { input: z.object({ userId: userIdSchema, grantId: z.string().min(1).max(100) }).strict(), output: none, summary: 'Take a grant back.' },
  'access.listKeys': { input: z.object({ userId: userIdSchema.optional() }).strict(), output: z.array(apiKeyInfoSchema), summary: 'API keys (never their secrets).' },
  'access.createKey': {
    input: z
      .object({
        userId: userIdSchema,
        label: z.string().trim().max(100).optional(),
        expiresAt: z.string().max(40).nullable().optional(),
        permissions: z.array(permissionSchema).max(30).nullable().optional(),
      })
      .strict(),
    output: apiKeyInfoSchema.extend({ key: z.string() }),
    summary: 'Create an API key; the only time its secret is shown.',
  },
  'access.revokeKey': { input: z.object({ id: z.string().min(1).max(100) }).strict(), output: none, summary: 'Revoke a key: the next request with it fails.' },
  'access.listPackages': { input: none, output: z.array(packageAccessSchema), summary: 'Every package with its visibility and owners.' },
  'access.updatePackage': {
    input: z.object({ name: z.string().min(1).max(214), visibility: visibilitySchema.optional(), owners: z.array(userIdSchema).max(100).optional() }).strict(),
    output: packageAccessSchema,
    summary: "Change a package's visibility and owners.",
  },
  'access.settings': { input: none, output: z.object({ defaultVisibility: visibilitySchema }), summary: 'Access settings of this registry.' },
  'access.setDefaultVisibility': { input: z.object({ visibility: visibilitySchema }).strict(), output: z.object({ defaultVisibility: visibilitySchema }), summary: 'Visibility of newly published packages.' },
  'access.audit': { input: auditFilterSchema.strict(), output: z.array(auditEventSchema), summary: 'Audit events, newest first, filtered.' },
});
