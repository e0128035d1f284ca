/**
 * Engine events (`docker events`): a bounded in-memory pub/sub with a short history for `since`.
 * Publishers never block: a subscriber that falls more than `maxQueue` events behind is closed.
 */

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon';

export interface EngineEvent {
  type: EventType;
  action: string;
  actor: { id: string; attributes: Record<string, string> };
  /** Nanoseconds since the epoch. */
  timeNano: bigint;
}

export interface Subscription extends AsyncIterable<EngineEvent> {
  close(): void;
}

export class EventBus {
  readonly #subs = new Set<{ push(e: EngineEvent): void }>();
  readonly #history: EngineEvent[] = [];

  private readonly historySize: number;
  private readonly maxQueue: number;

  constructor(historySize = 1000, maxQueue = 10_000) {
    this.historySize = historySize;
    this.maxQueue = maxQueue;
  }

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    const e: EngineEvent = { type, action, actor: { id, attributes }, timeNano: nowNs() };
    this.#history.push(e);
    if (this.#history.length > this.historySize) this.#history.shift();
    for (const s of this.#subs) s.push(e);
  }

  /** Past events (oldest first) still in the history window. */
  history(): readonly EngineEvent[] {
    return this.#history;
  }

  subscribe(): Subscription {
    const queue: EngineEvent[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    const sub = {
      push: (e: EngineEvent) => {
        if (closed) return;
        if (queue.length >= this.maxQueue) {
          close();
          return;
        }
        queue.push(e);
        wake?.();
      },
    };
    const close = () => {
      closed = true;
      this.#subs.delete(sub);
      wake?.();
    };
    this.#subs.add(sub);
    return {
      close,
      async *[Symbol.asyncIterator]() {
        try {
          while (!closed || queue.length > 0) {
            const e = queue.shift();
            if (e) {
              yield e;
              continue;
            }
            if (closed) return;
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        } finally {
          close(); // a consumer that stops iterating (break, throw) unsubscribes
        }
      },
    };
  }
}

let lastNs = 0n;

/** Wall-clock ns, strictly increasing so that event times follow publication order. */
function nowNs(): bigint {
  const t = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNs = t > lastNs ? t : lastNs + 1n;
  return lastNs;
}
