import { Connection } from '@temporalio/client';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { operatorSearchAttributes } from '../workflows/searchAttributes.js';
import { readPid, startDetached, stopProcess, waitFor } from './processes.js';
import { binaries, endpoints, paths } from './versions.js';

const namespace = 'default';

function startDevArgs(): string[] {
  const [ip, port] = endpoints.temporalAddress.split(':') as [string, string];
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    port,
    '--ui-port',
    String(endpoints.temporalUiPort),
    '--namespace',
    namespace,
    '--db-filename',
    paths.temporalDb,
    '--log-level',
    'warn',
    // The Temporal SDK's own CI settings: a file database that is fast enough for load tests.
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=OFF',
    '--dynamic-config-value',
    'system.enableEagerWorkflowStart=true',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
  ];
  for (const key of operatorSearchAttributes) args.push('--search-attribute', `${key.name}=Keyword`);
  return args;
}

export async function temporalIsReady(): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: endpoints.temporalAddress, connectTimeout: 1000 });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return operatorSearchAttributes.every((key) => customAttributes[key.name] !== undefined);
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

async function uiAnswers(): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${endpoints.temporalUiPort}/`);
  return response.ok;
}

export async function startTemporal(): Promise<'started' | 'running'> {
  if ((await readPid(paths.temporalPid)) !== undefined && (await temporalIsReady())) return 'running';
  await stopProcess(paths.temporalPid);
  await mkdir(dirname(paths.temporalDb), { recursive: true });
  await startDetached(binaries.temporal, startDevArgs(), paths.temporalLog, paths.temporalPid);
  await waitFor('the Temporal dev server', async () => ((await temporalIsReady()) ? true : undefined), 60_000, 250);
  await waitFor('the Temporal UI', async () => ((await uiAnswers()) ? true : undefined), 30_000, 250);
  return 'started';
}

export async function stopTemporal(): Promise<boolean> {
  return stopProcess(paths.temporalPid);
}

export async function temporalStatus(): Promise<string> {
  const pid = await readPid(paths.temporalPid);
  if (pid === undefined) return 'stopped';
  return (await temporalIsReady())
    ? `running (pid ${pid}) at ${endpoints.temporalAddress}, UI http://127.0.0.1:${endpoints.temporalUiPort}`
    : `starting or unhealthy (pid ${pid}); log: ${paths.temporalLog}`;
}
