/**
 * `npx tsx stack/catapult/cli.ts build|image`: builds catapult (cached) or packs the catapult server image
 * (cached by content; builds catapult first when needed).
 */
import { ensureCatapultBuild } from './build.js';
import { ensureCatapultImage } from './image.js';

const usage = 'usage: npx tsx stack/catapult/cli.ts build|image';

async function main(command: string | undefined): Promise<void> {
  const log = (line: string): void => console.log(`[catapult] ${line}`);
  const started = Date.now();
  switch (command) {
    case 'build': {
      const build = await ensureCatapultBuild(log);
      log(`${build.builtInMs === undefined ? 'cached' : 'built'}: ${build.dir}`);
      return;
    }
    case 'image': {
      const image = await ensureCatapultImage(log);
      log(`${image.reference} (${(image.bytes / 1024 / 1024).toFixed(1)} MiB, ${image.digest})`);
      log(`archive: ${image.archive}`);
      log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    default:
      throw new Error(usage);
  }
}

main(process.argv[2]).catch((error: unknown) => {
  // One clear line; the build log path is inside the message where it matters.
  console.error(`catapult: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
