import { ensureBinaries, StackBuildError } from './build.js';
import { ensureCatapultImage } from './catapult/image.js';
import { killTemporal, startKubeApiserver, startTemporalAgain, stopKubeApiserver } from './faults.js';
import { ensurePauseImage } from './images/pauseImage.js';
import { realNodeSkipReason } from './realNode.js';
import { stackComponents, stackDown, stackStatus, stackUp } from './stack.js';

const usage =
  'usage: npm run stack -- up|down|status|build|stop-apiserver|start-apiserver|kill-temporal|start-temporal';

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'build': {
      const times = await ensureBinaries(console.log, stackComponents());
      const skipRealNode = realNodeSkipReason();
      if (skipRealNode) console.log(`real node not built: ${skipRealNode}`);
      else {
        await ensurePauseImage();
        await ensureCatapultImage();
      }
      if (Object.keys(times).length === 0) console.log('all stack binaries are cached');
      return;
    }
    case 'up': {
      const started = Date.now();
      const info = await stackUp();
      console.log(
        `stack ${info.started ? 'started' : 'already running'} in ${((Date.now() - started) / 1000).toFixed(1)}s`,
      );
      console.log(`  Temporal:    ${info.temporalAddress} (namespace default)`);
      console.log(`  Temporal UI: ${info.temporalUi}`);
      console.log(`  kubeconfig:  ${info.kubeconfig}`);
      console.log(`  real node:   ${info.realNode}`);
      console.log(`  try:         kubectl --kubeconfig ${info.kubeconfig} get nodes`);
      return;
    }
    case 'down':
      await stackDown();
      console.log('stack stopped, state removed');
      return;
    case 'status': {
      const status = await stackStatus();
      console.log(`temporal:  ${status.temporal}`);
      console.log(`cluster:   ${status.cluster}`);
      console.log(`real node: ${status.realNode}`);
      return;
    }
    // Faults by hand (the tests in test/disruptive use the same helpers): see stack/faults.ts.
    case 'stop-apiserver':
      await stopKubeApiserver();
      console.log('kube-apiserver killed; `npm run stack -- start-apiserver` (or `up`) starts it again');
      return;
    case 'start-apiserver':
      console.log((await startKubeApiserver()) ? 'kube-apiserver is ready again' : 'kube-apiserver was not stopped');
      return;
    case 'kill-temporal':
      await killTemporal();
      console.log(
        'Temporal dev server killed; `npm run stack -- start-temporal` (or `up`) starts it on the same database',
      );
      return;
    case 'start-temporal':
      await startTemporalAgain();
      console.log('Temporal dev server is ready again');
      return;
    default:
      throw new Error(usage);
  }
}

main(process.argv[2]).catch((error: unknown) => {
  // One clear line; the build log path is inside the message where it matters.
  const message = error instanceof StackBuildError || error instanceof Error ? error.message : String(error);
  console.error(`stack: ${message}`);
  process.exit(1);
});
