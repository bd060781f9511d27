/**
 * `syncstorage nodes list|add|set`: the storage nodes the token server
 * assigns users to (the `nodes` table of service sync-1.5). Changes take
 * effect at the next token request: the server reads node rows fresh.
 */
import { Option, type Command } from 'commander';
import type { NodeRecord } from '../tokenserver/index.js';
import { NodeExistsError } from '../tokenserver/tokenserver-store.js';
import { addTableOptions, commandConfig } from './command-options.js';
import { CliConfigError } from './config/load-config.js';
import { withTokenserverStore } from './open-tokenserver.js';

const DB_OPTIONS = ['database', 'dataDir', 'tokenserverDatabase'];

function count(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) {
    throw new CliConfigError(`invalid ${name}: expected an integer ≥ 0`);
  }
  return Number(value);
}

function flag01(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === '1' || value === 'true') return 1;
  if (value === '0' || value === 'false') return 0;
  throw new CliConfigError(`invalid ${name}: expected 0 or 1`);
}

function nodeUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new CliConfigError(
      `invalid node ${value}: expected an http(s) URL such as https://sync.example.com`,
    );
  }
  return value.replace(/\/+$/, '');
}

export function formatNodes(nodes: readonly NodeRecord[]): string {
  const header = ['id', 'node', 'available', 'current_load', 'capacity', 'downed', 'backoff'];
  const rows = nodes.map((n) =>
    [n.id, n.node, n.available, n.currentLoad, n.capacity, n.downed, n.backoff].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function registerNodesCommand(program: Command): Command {
  const nodes = program
    .command('nodes')
    .description("list, add or change the token server's storage nodes");

  addTableOptions(
    nodes.command('list').description('print every node of sync-1.5 with its load'),
    DB_OPTIONS,
  ).action(async (flags: Record<string, unknown>) => {
    await withTokenserverStore(commandConfig(flags), async (store) => {
      const list = await store.listNodes();
      process.stdout.write(list.length ? `${formatNodes(list)}\n` : 'no nodes\n');
    });
  });

  addTableOptions(
    nodes
      .command('add <url>')
      .description('add a storage node (its URL as clients reach it, with any path)')
      .addOption(new Option('--capacity <n>', 'users it may hold (default 100000)'))
      .addOption(new Option('--available <n>', 'slots open now (default: the capacity)'))
      .addOption(new Option('--current-load <n>', 'users on it already (default 0)'))
      .addOption(new Option('--downed', 'add it marked down'))
      .addOption(new Option('--backoff', 'add it marked backing off')),
    DB_OPTIONS,
  ).action(async (url: string, flags: Record<string, unknown>) => {
    const { capacity, available, currentLoad, downed, backoff, ...rest } = flags;
    const node = nodeUrl(url);
    const cap = count('--capacity', capacity) ?? 100_000;
    const fields = {
      node,
      capacity: cap,
      available: count('--available', available) ?? cap,
      currentLoad: count('--current-load', currentLoad) ?? 0,
      downed: downed ? 1 : 0,
      backoff: backoff ? 1 : 0,
    };
    await withTokenserverStore(commandConfig(rest), async (store) => {
      try {
        await store.addNode(fields);
      } catch (error) {
        if (error instanceof NodeExistsError) {
          throw new CliConfigError(`${node} exists already: change it with \`nodes set\``);
        }
        throw error;
      }
      process.stdout.write(`added ${node} (capacity ${cap})\n`);
    });
  });

  addTableOptions(
    nodes
      .command('set <url>')
      .description('change a node: capacity, available, downed, backoff; or move its users away')
      .addOption(new Option('--capacity <n>', 'users it may hold'))
      .addOption(new Option('--available <n>', 'slots open now'))
      .addOption(new Option('--downed <0|1>', '1: assign no new users to it'))
      .addOption(new Option('--backoff <0|1>', '1: assign no new users to it for now'))
      .addOption(
        new Option(
          '--unassign',
          "mark its users replaced: each moves to another node at its next sync (Mozilla's unassign_node)",
        ),
      ),
    DB_OPTIONS,
  ).action(async (url: string, flags: Record<string, unknown>) => {
    const { capacity, available, downed, backoff, unassign, ...rest } = flags;
    const node = nodeUrl(url);
    const fields = {
      capacity: count('--capacity', capacity),
      available: count('--available', available),
      downed: flag01('--downed', downed),
      backoff: flag01('--backoff', backoff),
    };
    await withTokenserverStore(commandConfig(rest), async (store) => {
      if (!(await store.setNode(node, fields))) {
        throw new CliConfigError(`no node ${node}: see \`nodes list\``);
      }
      let moved = '';
      if (unassign) moved = `; ${await store.unassignNode(node)} users unassigned`;
      const after = await store.getNode(node);
      process.stdout.write(`${after ? formatNodes([after]) : node}${moved}\n`);
    });
  });
  return nodes;
}
