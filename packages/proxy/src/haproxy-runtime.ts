import net from 'node:net';

/** Sends one command to HAProxy's runtime API (its stats socket) and returns the answer. */
export function haproxyCommand(socketPath: string, command: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socketPath);
    let answer = '';
    const timer = setTimeout(() => {
      connection.destroy();
      reject(new Error(`HAProxy did not answer "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    connection.setEncoding('utf8');
    connection.on('connect', () => connection.end(`${command}\n`));
    connection.on('data', (chunk: string) => {
      answer += chunk;
    });
    connection.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach HAProxy's runtime API at ${socketPath}: ${error.message}`));
    });
    connection.on('close', () => {
      clearTimeout(timer);
      resolve(answer.trim());
    });
  });
}

/** The admin state of each server of a backend, from `show servers state`. */
export async function serverStates(socketPath: string, backend: string): Promise<Map<string, { operational: number; admin: number }>> {
  const answer = await haproxyCommand(socketPath, `show servers state ${backend}`);
  const states = new Map<string, { operational: number; admin: number }>();
  for (const line of answer.split('\n')) {
    if (!line || line.startsWith('#') || /^\d+$/.test(line.trim())) continue;
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
    const fields = line.trim().split(/\s+/);
    if (fields[1] === backend && fields[3]) states.set(fields[3], { operational: Number(fields[5]), admin: Number(fields[6]) });
  }
  return states;
}

/** Current sessions on one server, from `show stat` (CSV; `scur` is the fifth column). */
export async function serverSessions(socketPath: string, backend: string, server: string): Promise<number> {
  const answer = await haproxyCommand(socketPath, 'show stat');
  for (const line of answer.split('\n')) {
    const fields = line.split(',');
    if (fields[0] === backend && fields[1] === server) return Number(fields[4]);
  }
  throw new Error(`HAProxy has no server ${backend}/${server}`);
}

/**
 * Saves every server's state (`show servers state`) to the file the config's `server-state-file`
 * names, atomically, so a later HAProxy reload restores what the runtime API set.
 */
export async function saveServerStates(socketPath: string, stateFile: string): Promise<void> {
  const { writeAtomically } = await import('./atomic-write.js');
  await writeAtomically(stateFile, `${await haproxyCommand(socketPath, 'show servers state')}\n`);
}
