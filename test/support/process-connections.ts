import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * How many established TCP connections process `pid` holds to `port` (PostgreSQL's),
 * read from Linux procfs: the process's socket inodes matched against /proc/net/tcp{,6}.
 */
export async function tcpConnectionsOf(pid: number, port: number): Promise<number> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1]) inodes.add(match[1]);
  }
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const [, , remote, state, , , , , , inode] = fields;
      if (remote?.endsWith(`:${portHex}`) && state === '01' && inode && inodes.has(inode)) count += 1;
    }
  }
  return count;
}
