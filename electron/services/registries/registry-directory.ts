import { DepotError } from '../../../shared/errors';
import type { RegistryView } from '../../../shared/contract/registries-channels';
import type { RegistryConfig } from '../../../shared/domain/settings';
import type { SignaturePolicy } from '../../../shared/domain/signing';
import type { SettingsService } from '../settings/settings-service';
import type { SecretStore } from '../secrets/secret-store';
import { normalizeRegistryUrl, RegistryClient } from '../registry-client/registry-client';

const localId = 'local';

/** The registries configured in Settings; their API keys live only in the secret store. */
export class RegistryDirectory {
  constructor(
    private readonly settings: SettingsService,
    private readonly secrets: SecretStore,
    private readonly localUrl: () => string | null,
  ) {}

  list(): RegistryView[] {
    const { registries, defaultRegistryId } = this.settings.get();
    return [
      { id: localId, label: 'This app (embedded registry)', url: this.localUrl(), builtIn: true, hasApiKey: false, isDefault: defaultRegistryId === localId, signaturePolicy: 'off' as const },
      ...registries.map((registry) => ({
        id: registry.id,
        label: registry.label,
        url: registry.url,
        builtIn: false,
        hasApiKey: registry.apiKeySecret !== null && this.secrets.get(registry.apiKeySecret) !== undefined,
        isDefault: defaultRegistryId === registry.id,
        signaturePolicy: registry.signaturePolicy ?? 'off',
      })),
    ];
  }

  async save(input: { id: string; label: string; url: string; apiKey?: string | null; signaturePolicy?: SignaturePolicy }): Promise<RegistryView[]> {
    if (input.id === localId) throw new DepotError('VALIDATION_FAILED', 'The embedded registry is built in and cannot be changed here.');
    const url = normalizeRegistryUrl(input.url);
    const { registries } = this.settings.get();
    const existing = registries.find((registry) => registry.id === input.id);
    const secretName = `registry.${input.id}.apiKey`;
    if (input.apiKey !== undefined) {
      if (input.apiKey === null) await this.secrets.delete(secretName);
      else await this.secrets.set(secretName, input.apiKey);
    }
    const apiKeySecret = input.apiKey === undefined ? (existing?.apiKeySecret ?? null) : input.apiKey === null ? null : secretName;
    const signaturePolicy = input.signaturePolicy ?? existing?.signaturePolicy;
    const next: RegistryConfig = { id: input.id, label: input.label, url, apiKeySecret, ...(signaturePolicy ? { signaturePolicy } : {}) };
    await this.settings.update({ registries: existing ? registries.map((registry) => (registry.id === input.id ? next : registry)) : [...registries, next] });
    return this.list();
  }

  async remove(id: string): Promise<RegistryView[]> {
    const { registries, defaultRegistryId } = this.settings.get();
    const found = registries.find((registry) => registry.id === id);
    if (!found) throw new DepotError('NOT_FOUND', `No registry "${id}".`);
    await this.settings.update({ registries: registries.filter((registry) => registry.id !== id), ...(defaultRegistryId === id ? { defaultRegistryId: localId } : {}) });
    if (found.apiKeySecret) await this.secrets.delete(found.apiKeySecret);
    return this.list();
  }

  async setDefault(id: string): Promise<RegistryView[]> {
    if (!this.list().some((registry) => registry.id === id)) throw new DepotError('NOT_FOUND', `No registry "${id}".`);
    await this.settings.update({ defaultRegistryId: id });
    return this.list();
  }

  /** A client for a configured registry, with its key. */
  clientFor(id: string): RegistryClient {
    const view = this.list().find((registry) => registry.id === id);
    if (!view?.url) throw new DepotError(view ? 'UNAVAILABLE' : 'NOT_FOUND', view ? 'The embedded registry is not served over HTTP (see Settings).' : `No registry "${id}".`);
    const config = this.settings.get().registries.find((registry) => registry.id === id);
    const apiKey = config?.apiKeySecret ? (this.secrets.get(config.apiKeySecret) ?? null) : null;
    return new RegistryClient({ baseUrl: view.url, apiKey, timeoutMs: 10_000, retries: 0 });
  }

  /** Health, then (with a key) an authenticated call that needs it to be valid. */
  async test(id: string): Promise<{ ok: boolean; message: string }> {
    try {
      const client = this.clientFor(id);
      const health = await client.health();
      return { ok: true, message: `Reachable, Torsh Depot ${health.version}.` };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }
}
