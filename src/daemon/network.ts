/** Builds the daemon's NetworkService (N1's implementation lands on branch netcore). */
import type { NetworkService, NetworkServiceOptions } from '../network/service.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';

export function createNetworkService(_meta: MetadataStore, _o: NetworkServiceOptions): NetworkService {
  throw new Error('the network service is not merged into this branch yet');
}
