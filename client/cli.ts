/**
 * The operator's command-line client: `npm run cli -- <command> <name> [-n <namespace>]`.
 * Exit codes: 0 done, 1 the command failed (no such SymbolNode or workflow, Temporal unreachable), 2 usage.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CliError, openLifecycle, type Lifecycle } from './lifecycle.js';
import { resume } from './resume.js';
import { status } from './status.js';

export const usage = `usage: npm run cli -- <command> <name> [-n|--namespace <namespace>]

commands:
  status <name>   what the operator knows of the SymbolNode: generations, last outcome,
                  remediation runs, escalation, last pod health
  resume <name>   let the operator act on the node again after it gave up (escalated)

<name> may also be given as <namespace>/<name>; the namespace defaults to 'default'.
environment: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default),
  SNO_KUBECONFIG (else KUBECONFIG, ~/.kube/config or the in-cluster service account)`;

const commands: Record<string, (lifecycle: Lifecycle) => Promise<string[]>> = {
  status,
  resume: (lifecycle) => resume(lifecycle),
};

export type Command = 'status' | 'resume';
export type Invocation = { command: 'help' } | { command: Command; namespace: string; name: string };

/** Wrong arguments: the message and the usage go to stderr, exit code 2. */
export class UsageError extends Error {}

export function parseCliArgs(args: string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { namespace: { type: 'string', short: 'n' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { command: 'help' };
  const [command, target, ...extra] = positionals;
  if (command === undefined) throw new UsageError('missing command');
  if (!Object.hasOwn(commands, command)) throw new UsageError(`unknown command '${command}'`);
  if (target === undefined || target === '') throw new UsageError(`${command}: missing SymbolNode name`);
  if (extra.length > 0) throw new UsageError(`${command}: unexpected argument '${extra[0]}'`);
  const parts = target.split('/');
  if (parts.length > 2 || parts.some((part) => part === '')) {
    throw new UsageError(`${command}: '${target}' is not <name> or <namespace>/<name>`);
  }
  const [name, namespaceInName] = parts.length === 2 ? [parts[1]!, parts[0]!] : [parts[0]!, undefined];
  if (values.namespace === '') throw new UsageError(`${command}: empty namespace`);
  if (namespaceInName && values.namespace && namespaceInName !== values.namespace) {
    throw new UsageError(
      `${command}: namespace '${namespaceInName}' in the name differs from -n '${values.namespace}'`,
    );
  }
  return { command: command as Command, namespace: namespaceInName ?? values.namespace ?? 'default', name };
}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs one command; returns the exit code. Expected failures print one line, never a stack. */
export async function runCli(args: string[], io: Io = processIo): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = parseCliArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}`);
    io.err(usage);
    return 2;
  }
  if (invocation.command === 'help') {
    io.out(usage);
    return 0;
  }
  let lifecycle: Lifecycle | undefined;
  try {
    lifecycle = await openLifecycle(invocation.namespace, invocation.name, io.env ?? process.env);
    for (const line of await commands[invocation.command]!(lifecycle)) io.out(line);
    return 0;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.err(`error: ${error.message}`);
    return 1;
  } finally {
    await lifecycle?.close();
  }
}

const invokedDirectly = (): boolean => {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};

if (invokedDirectly()) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // Not an expected failure: a bug, worth its stack.
      console.error(error);
      process.exitCode = 1;
    },
  );
}
