/**
 * A read/write lock for async code. Many `shared` holders run together; an `exclusive` holder runs
 * alone. Writers are not starved: once an exclusive request waits, new shared requests queue
 * behind it. Used by the image store: pulls, loads, imports and builds hold it shared while they
 * add blobs and layers; garbage collection holds it exclusive, so a sweep never removes something
 * a pull in progress has written but not yet referenced.
 */
export class RwLock {
  #readers = 0;
  #writer = false;
  readonly #queue: { exclusive: boolean; wake: () => void }[] = [];

  /** Runs `fn` while holding the lock shared. */
  async shared<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire(false);
    try {
      return await fn();
    } finally {
      this.#readers--;
      this.#drain();
    }
  }

  /** Runs `fn` while holding the lock exclusively. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire(true);
    try {
      return await fn();
    } finally {
      this.#writer = false;
      this.#drain();
    }
  }

  #acquire(exclusive: boolean): Promise<void> {
    if (this.#queue.length === 0 && this.#canTake(exclusive)) {
      this.#take(exclusive);
      return Promise.resolve();
    }
    return new Promise((wake) => this.#queue.push({ exclusive, wake }));
  }

  #canTake(exclusive: boolean): boolean {
    return exclusive ? !this.#writer && this.#readers === 0 : !this.#writer;
  }

  #take(exclusive: boolean): void {
    if (exclusive) this.#writer = true;
    else this.#readers++;
  }

  #drain(): void {
    while (this.#queue.length > 0 && this.#canTake(this.#queue[0]!.exclusive)) {
      const next = this.#queue.shift()!;
      this.#take(next.exclusive);
      next.wake();
      if (next.exclusive) return;
    }
  }
}
