// One process starting on a store (migrations, pg-boss schema), then exiting: the reliability suite starts
// several at once on a fresh store. Exit code 0 = started.
import { createApp } from '../../src/app.ts';
import { loadSettings } from '../../src/config.ts';

try {
  const app = await createApp(loadSettings(process.env));
  await app.close();
  process.stdout.write('started\n');
  process.exit(0);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
