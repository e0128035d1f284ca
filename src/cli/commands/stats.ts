/**
 * `brig stats [-a] [--no-stream] [--no-trunc] [CONTAINER...]`: the resource table of `docker stats`,
 * computed client-side from the daemon's stats objects with the docker CLI's formulas (CPU % from
 * the difference to `precpu_stats`, memory without the inactive page cache, block and network I/O
 * summed). Without names it shows the running containers (all with `-a`).
 *
 * Streaming redraws the table every second (clearing the screen on a terminal) until interrupted;
 * a container whose stream ends keeps its row with `--` values, as docker shows it.
 */
import { isApiError } from '../../client/api-error.js';
import type { ContainerStats } from '../../client/types.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { write, type CliContext, type Command } from '../command.js';
import { bytesSize, humanSize } from '../output/format.js';
import { formatTable } from '../output/table.js';

const options = {
  all: { type: 'boolean', short: 'a', description: 'Show all containers (default shows just running)' },
  'no-stream': { type: 'boolean', description: 'Disable streaming stats and only pull the first result' },
  'no-trunc': { type: 'boolean', description: 'Do not truncate output' },
} as const satisfies OptionSpecs;

const HEADER = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];

/** The docker CLI's calculateCPUPercentUnix. */
export function cpuPercent(s: ContainerStats): number {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/** The docker CLI's calculateMemUsageUnixNoCache: usage minus inactive file pages (v1 `total_inactive_file`, v2 `inactive_file`). */
export function memoryUsage(mem: ContainerStats['memory_stats']): number {
  const usage = mem.usage ?? 0;
  const v1 = mem.stats?.['total_inactive_file'];
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = mem.stats?.['inactive_file'] ?? 0;
  return v2 < usage ? usage - v2 : usage;
}

/** One row of the table; `undefined` stats (a stream that ended) print as `--`. */
export function statsRow(id: string, name: string, s: ContainerStats | undefined, noTrunc = false): string[] {
  const shown = noTrunc ? id : id.slice(0, 12);
  if (!s) return [shown, name, '--', '-- / --', '--', '--', '--', '--'];
  const mem = memoryUsage(s.memory_stats);
  const limit = s.memory_stats.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let read = 0;
  let written = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') read += e.value;
    else if (op === 'write') written += e.value;
  }
  return [
    shown,
    name,
    `${cpuPercent(s).toFixed(2)}%`,
    `${bytesSize(mem)} / ${bytesSize(limit)}`,
    `${(limit ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    `${humanSize(rx)} / ${humanSize(tx)}`,
    `${humanSize(read)} / ${humanSize(written)}`,
    String(s.pids_stats?.current ?? 0),
  ];
}

interface Target {
  /** What the request names (the argument, or the short ID of a listed container). */
  ref: string;
  id: string;
  name: string;
  stats?: ContainerStats;
  ended: boolean;
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'Display a live stream of container(s) resource usage statistics',
  usage: '[OPTIONS] [CONTAINER...]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    const client = ctx.client();
    const noTrunc = values['no-trunc'] === true;
    let targets: Target[];
    if (positionals.length > 0) {
      targets = positionals.map((ref) => ({ ref, id: ref, name: ref, ended: false }));
    } else {
      const list = await client.listContainers({ all: values.all === true });
      targets = list.map((c) => ({ ref: c.Id.slice(0, 12), id: c.Id, name: (c.Names?.[0] ?? '').replace(/^\//, ''), ended: false }));
    }
    const learn = (t: Target, s: ContainerStats) => {
      t.stats = s;
      if (s.id) t.id = s.id;
      if (s.name) t.name = s.name.replace(/^\//, '');
    };
    const render = () => formatTable(HEADER, targets.map((t) => statsRow(t.id, t.name, t.ended ? undefined : t.stats, noTrunc)));

    if (values['no-stream'] === true) {
      // One request per container, in parallel (as the docker CLI does); each answers after ~1 s.
      let failed = false;
      await Promise.all(targets.map(async (t) => {
        try {
          for await (const s of client.containerStats(t.ref, { stream: false })) learn(t, s);
        } catch (err) {
          if (!isApiError(err)) throw err;
          failed = true;
          t.ended = true;
          await write(ctx.stderr, `Error response from daemon: ${err.message}\n`);
        }
      }));
      if (failed && positionals.length > 0) return 1;
      await write(ctx.stdout, render());
      return 0;
    }

    const abort = new AbortController();
    const stop = () => abort.abort();
    ctx.signals.on('SIGINT', stop);
    ctx.signals.on('SIGTERM', stop);
    let failure: unknown;
    const readers = targets.map(async (t) => {
      try {
        for await (const s of client.containerStats(t.ref, { stream: true, signal: abort.signal })) learn(t, s);
      } catch (err) {
        if (!abort.signal.aborted) failure ??= err;
      } finally {
        t.ended = true;
      }
    });
    const all = Promise.all(readers);
    try {
      while (!abort.signal.aborted) {
        const tick = new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000);
          abort.signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          }, { once: true });
        });
        await Promise.race([tick, all]);
        if (failure !== undefined && positionals.length > 0 && targets.length === 1) throw failure;
        await write(ctx.stdout, `${ctx.stdout.isTTY === true ? '\x1b[2J\x1b[H' : ''}${render()}`);
        if (targets.every((t) => t.ended)) break;
      }
    } finally {
      abort.abort();
      ctx.signals.off('SIGINT', stop);
      ctx.signals.off('SIGTERM', stop);
      await all;
    }
    return 0;
  },
};
