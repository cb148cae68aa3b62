/**
 * The Temporal SDK's runtime, installed once per process before the first connection: its log (worker, activity
 * and Core messages) written through the operator's JSON logger, its metrics exported by Core on a loopback port
 * that the operator's /metrics appends to its own (worker/metrics.ts renderMetrics).
 */
import { Runtime, type LogLevel as TemporalLogLevel } from '@temporalio/worker';
import { temporalLogger, type Logger } from './log.js';
import { freeLoopbackPort } from './metrics.js';

export interface TemporalTelemetry {
  /** Core's Prometheus exporter; undefined when it could not be started (the operator's own metrics remain). */
  metricsUrl: string | undefined;
}

export async function installTemporalRuntime(logger: Logger, level: TemporalLogLevel): Promise<TemporalTelemetry> {
  const sdkLogger = temporalLogger(logger, level);
  const logging = { forward: {}, filter: { core: level, other: 'ERROR' as const } };
  // The port is chosen before Core binds it; should another process take it in between, try another.
  let failure = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    try {
      Runtime.install({
        logger: sdkLogger,
        telemetryOptions: {
          logging,
          metrics: {
            // Prometheus' conventions: counters end in _total, durations in seconds with the unit in the name.
            prometheus: {
              bindAddress: `127.0.0.1:${port}`,
              countersTotalSuffix: true,
              unitSuffix: true,
              useSecondsForDurations: true,
            },
          },
        },
      });
      return { metricsUrl: `http://127.0.0.1:${port}/metrics` };
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      // Installed already (a host process made its own): keep it, without Core's metrics.
      if (/already/i.test(failure)) break;
    }
  }
  logger.warn("the Temporal SDK's metrics are not exported; /metrics has the operator's own only", {
    error: failure,
  });
  try {
    Runtime.install({ logger: sdkLogger, telemetryOptions: { logging } });
  } catch {
    // Already installed: the SDK keeps that runtime.
  }
  return { metricsUrl: undefined };
}
