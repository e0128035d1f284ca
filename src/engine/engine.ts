/**
 * The engine: the use cases the API (and nothing else) calls, wired from the stores, the runtime
 * and the event bus. Built by the daemon's composition root.
 */
import type { EventBus } from '../events/event-bus.js';
import type { ImageStore } from '../image/image-store.js';
import type { ImagePuller } from '../image/pull.js';
import type { ImagePusher } from '../image/push.js';
import type { Registries } from '../image/registry/registries.js';
import type { ContainerService } from './containers.js';
import type { ExecService } from './exec.js';
import type { LocalImageService } from './local-images.js';
import type { NetworkUseCases } from './networks.js';
import type { SystemService } from './system.js';

export interface Engine {
  containers: ContainerService;
  exec: ExecService;
  images: ImageStore;
  /** `docker pull` (registry → image store). */
  puller: ImagePuller;
  /** `docker push` (image store → registry). */
  pusher: ImagePusher;
  /** Registry access shared by pull, push and login. */
  registries: Registries;
  /** tag, rmi, history, prune, df, save, load. */
  localImages: LocalImageService;
  events: EventBus;
  system: SystemService;
  /** `docker network …`. */
  networks: NetworkUseCases;
}
