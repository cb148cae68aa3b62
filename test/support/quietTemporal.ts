import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { WriteStream } from 'node:fs';
import { inspect } from 'node:util';
import { testLog } from './secretLedger.js';

// Worker state changes and bundler output at INFO drown test results: the console gets warnings and errors only.
// Everything from INFO up (workflow and activity logs included) also goes to a file that the final secret scan
// searches (test/final/secret-scan.test.ts), opened at the first entry.
const toConsole = new DefaultLogger('WARN');
let file: WriteStream | undefined;
const line = (entry: LogEntry) =>
  JSON.stringify({
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level,
    msg: entry.message,
    ...(entry.meta ? { meta: inspect(entry.meta, { depth: 6, breakLength: Infinity }) } : {}),
  }) + '\n';
Runtime.install({
  logger: new DefaultLogger('INFO', (entry) => {
    file ??= testLog(`temporal-runtime.${process.pid}.log`);
    file.write(line(entry));
    toConsole.log(entry.level, entry.message, entry.meta);
  }),
});
