/**
 * The daemon's registry access: settings (certs dir, insecure list), shared keep-alive agents and
 * the bearer token cache; hands out a {@link RegistryClient} per registry and credentials.
 */
import { EngineError } from '../../errors.js';
import { TokenCache, type Credentials } from './auth.js';
import { AgentPool, RegistryClient } from './client.js';
import { DEFAULT_CERTS_DIR, normalizeRegistryAddress, resolveEndpoint, type RegistryOptions } from './endpoint.js';

export class Registries {
  readonly options: RegistryOptions;
  readonly #agents = new AgentPool();
  readonly #tokens = new TokenCache();

  constructor(options: Partial<RegistryOptions> = {}) {
    this.options = { certsDir: options.certsDir ?? DEFAULT_CERTS_DIR, insecureRegistries: options.insecureRegistries ?? [] };
  }

  /** A client for the registry of a reference domain (`docker.io`, `127.0.0.1:5000`). */
  async client(domain: string, credentials: Credentials = {}): Promise<RegistryClient> {
    const endpoint = await resolveEndpoint(domain, this.options);
    return new RegistryClient(endpoint, credentials, { agents: this.#agents, tokens: this.#tokens, insecureRegistries: this.options.insecureRegistries });
  }

  /**
   * `docker login`: checks the credentials against the registry at `serverAddress` (Docker Hub when
   * empty). Nothing is stored. Throws ERR_UNAUTHORIZED with the registry's message when refused.
   */
  async login(serverAddress: string | undefined, credentials: Credentials, signal?: AbortSignal): Promise<void> {
    if (!credentials.identityToken && (credentials.username === undefined || credentials.password === undefined)) {
      throw new EngineError('ERR_INVALID_ARGUMENT', 'login needs a username and a password (or an identity token)');
    }
    const client = await this.client(normalizeRegistryAddress(serverAddress), credentials);
    await client.login(signal);
  }

  close(): void {
    this.#agents.destroy();
  }
}
