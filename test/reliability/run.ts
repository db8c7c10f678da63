// npm run test:reliability [-- --reduced] [-- --out <file>]: the full reliability suite, report written
// to reports/reliability-<date>.md (and .json); exit code 1 when any section failed.
import fs from 'node:fs';
import path from 'node:path';
import { renderReport, runReliabilitySuite } from './suite.ts';

const args = process.argv.slice(2);
const scale = args.includes('--reduced') ? 'reduced' : 'full';
const outIndex = args.indexOf('--out');
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const out = outIndex >= 0 ? path.resolve(args[outIndex + 1]!) : path.resolve('reports', `reliability-${stamp}.md`);

const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1]!.split(',') : undefined;
const report = await runReliabilitySuite(scale, (line) => process.stderr.write(`# ${line}\n`), only);
const text = renderReport(report);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${text}\n`);
fs.writeFileSync(out.replace(/\.md$/, '.json'), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${text}\nReport written to ${out}\n`);
process.exit(report.passed ? 0 : 1);
