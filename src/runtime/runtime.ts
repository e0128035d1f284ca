/**
 * The runtime seam: how brig runs an OCI bundle. The engine only sees this interface; the
 * implementation (`RuncConmonRuntime`) hides conmon's pipes, runc's state dir and exit files.
 *
 * Lifecycle of a task: `create` (process set up, not yet running; stdio held by the supervisor)
 * → `start` → exits (reported through `onExit`, recorded durably by the supervisor) → `delete`.
 * A task outlives the daemon: after a restart `state`, `exitCode` and `attach` work again.
 */

export interface CreateTaskOptions {
  id: string;
  /** Directory holding `config.json`; the supervisor also keeps its files there. */
  bundle: string;
  /** Path of the container log (CRI "k8s-file" format). */
  logPath: string;
  terminal: boolean;
  /** Keep a stdin pipe for the container (`OpenStdin`). */
  stdin: boolean;
  /** Do not close the container's stdin when an attached client closes its end (`StdinOnce=false`). */
  leaveStdinOpen: boolean;
  /** Terminal size [rows, cols] applied before the process starts. */
  consoleSize?: [number, number];
}

/** Resource limits a running task can be given (0 = unlimited / unchanged as the runtime defines). */
export interface TaskResources {
  memory: number;
  memorySwap: number;
  cpuShares: number;
  nanoCpus: number;
  cpuQuota: number;
  cpuPeriod: number;
  pidsLimit: number | null;
}

export type TaskStatus = 'created' | 'running' | 'paused' | 'stopped';

export interface TaskState {
  status: TaskStatus;
  pid: number;
}

/** Raised when the runtime could not create the task; `message` carries the runtime's own words. */
export class TaskCreateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskCreateError';
  }
}

/** A live connection to a task's stdio (output is already split by stream). */
export interface TaskStdio {
  onStdout(cb: (chunk: Buffer) => void): void;
  onStderr(cb: (chunk: Buffer) => void): void;
  /** Called once when the supervisor closes the stream (the task exited, or the stream ended). */
  onEnd(cb: () => void): void;
  writeStdin(chunk: Buffer): void;
  /** Half-close: the task's stdin sees EOF (unless the task was created with `leaveStdinOpen`). */
  endStdin(): void;
  close(): void;
}

/** One process to run inside a running task (`docker exec`). */
export interface ExecTaskOptions {
  /** The task (container) to run it in. */
  containerId: string;
  /** Unique ID of the session; it names the session's directory. */
  execId: string;
  /** The OCI `process` object (args, env, cwd, user, capabilities, rlimits…), written as process.json. */
  process: object;
  terminal: boolean;
  /** Keep a stdin pipe (non-TTY sessions only; a TTY always has input). */
  stdin: boolean;
  /** Connect to the session's stdio before the process runs, so no output is lost. */
  attach: boolean;
}

/**
 * A `docker exec` session. Lifecycle: `Runtime.exec` prepares it (supervisor up, stdio connected
 * when asked, nothing running yet) → `start()` lets the process run → `exited` settles with its exit
 * code → `cleanup()` removes its files. `abort()` ends a session that will not be started.
 */
export interface ExecTask {
  /** Connected stdio when the session was prepared with `attach` (register callbacks before `start`). */
  readonly stdio: TaskStdio | undefined;
  /**
   * Runs the process; resolves with its host pid.
   * @throws TaskCreateError with the runtime's own message (e.g. `executable file not found`).
   */
  start(): Promise<number>;
  /** Settles once with the exit code (128+signal for a signalled process, 255 if it is unknown). Never rejects. */
  readonly exited: Promise<number>;
  /** Resizes the session's terminal (no-op without one). */
  resize(rows: number, cols: number): Promise<void>;
  /** Stops a session that was never started (its supervisor is killed). */
  abort(): Promise<void>;
  /** Removes the session's directory; call after `exited` (or after a failed start). Idempotent. */
  cleanup(): Promise<void>;
}

export interface Runtime {
  readonly name: string;
  /** Prepares the runtime's directories and starts watching for exits. */
  init(onExit: (id: string, exitCode: number) => void): Promise<void>;
  create(options: CreateTaskOptions): Promise<{ pid: number }>;
  start(id: string): Promise<void>;
  kill(id: string, signal: number, all?: boolean): Promise<void>;
  /** Removes the runtime's state of a stopped (or, with `force`, any) task; idempotent. */
  delete(id: string, force?: boolean): Promise<void>;
  /** Current state, or `undefined` if the runtime does not know the task. */
  state(id: string): Promise<TaskState | undefined>;
  /** IDs the runtime knows (for leak checks and reconciliation). */
  list(): Promise<string[]>;
  /** The durable exit code, if the task has exited; removes nothing. */
  exitCode(id: string): Promise<number | undefined>;
  /** When the exit was recorded (ISO time), if it was; tells the real exit time after a daemon restart. */
  exitTime(id: string): Promise<string | undefined>;
  /** Forgets the exit record of a task that is being deleted or restarted. */
  clearExit(id: string): Promise<void>;
  /** Connects to the stdio of a created or running task (only output produced from now on). */
  attach(id: string, bundle: string): Promise<TaskStdio>;
  resize(bundle: string, rows: number, cols: number): Promise<void>;
  /**
   * Prepares an exec session in a running task (see `ExecTask`).
   * @throws TaskCreateError when the supervisor cannot be started.
   */
  exec(options: ExecTaskOptions): Promise<ExecTask>;
  /** Freezes / thaws every process of a task (cgroup freezer). */
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Changes the resource limits of a running task. */
  update(id: string, resources: TaskResources): Promise<void>;
  close(): void;
}
