/**
 * `npm run bench [-- --quick] [--only capacity,startup] [--steps 300,500] [--minutes 1,10] [--no-pin] [--server path/to/index.js] [--ab <git ref>]
 *  [--profile DIR] [--out DIR] [--readme] [--render results.json]`
 * Prints progress and the Markdown results; writes bench/results/<time>-<mode>.json, latest-<mode>.json and
 * latest-<mode>.md (or into --out DIR); with --readme, also replaces the results section of bench/README.md.
 * --render re-renders a saved run (results JSON) instead of measuring.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runBench, type BenchResults } from './core.js';
import { README, RESULTS_DIR } from './lib/paths.js';
import { buildReference } from './lib/reference-build.js';
import { renderMarkdown } from './report.js';
import { FULL, QUICK, SECTIONS, type BenchSettings, type Section } from './settings.js';
import { checkTargets } from './targets.js';

const RESULTS_START = '<!-- results:start -->';
const RESULTS_END = '<!-- results:end -->';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    'no-pin': { type: 'boolean' },
    server: { type: 'string' },
    ab: { type: 'string' },
    profile: { type: 'string' },
    out: { type: 'string' },
    steps: { type: 'string' },
    minutes: { type: 'string' },
    readme: { type: 'boolean' },
    render: { type: 'string' },
  },
  strict: true,
});

const base = values.quick ? QUICK : FULL;
const sections = values.only ? (values.only.split(',').map((s) => s.trim()) as Section[]) : base.sections;
for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`unknown section "${s}" (one of ${SECTIONS.join(', ')})`);
const settings: BenchSettings = { ...base, sections, pin: base.pin && !values['no-pin'] };
if (values.minutes) settings.baseline = { ...settings.baseline, minutes: values.minutes.split(',').map(Number) };
if (values.steps) {
  const steps = values.steps.split(',').map(Number);
  settings.capacity = { ...settings.capacity, steps, maxCalls: Math.max(...steps), bisect: 0 };
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const results = values.render ? rerender(resolve(values.render)) : await measure();

async function measure(): Promise<BenchResults> {
  log(`vapi-call-mcp benchmark (${settings.mode}): ${sections.join(', ')}`);
  const reference = values.ab ? buildReference(values.ab, log) : undefined;
  // Interrupted: the temporary worktree goes too.
  process.once('SIGINT', () => {
    reference?.remove();
    process.exit(130);
  });
  try {
    return await runBench(settings, {
      log,
      serverEntry: values.server ? resolve(values.server) : undefined,
      profileDir: values.profile ? resolve(values.profile) : undefined,
      reference,
    });
  } finally {
    reference?.remove();
  }
}

/** A saved run, its targets checked again (the criteria may have changed since). */
function rerender(file: string): BenchResults {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  return { ...saved, targets: checkTargets(saved) };
}

const markdown = renderMarkdown(results);
const outDir = values.out ? resolve(values.out) : RESULTS_DIR;
mkdirSync(outDir, { recursive: true });
const stamp = results.startedAt.replace(/[:.]/g, '-');
if (!values.render) writeFileSync(join(outDir, `${stamp}-${results.mode}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(outDir, `latest-${results.mode}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(outDir, `latest-${results.mode}.md`), markdown);
log('');
log(markdown);
log(`results: ${join(outDir, `latest-${results.mode}.json`)} and .md`);
if (values.readme) {
  writeFileSync(README, replaceResults(readFileSync(README, 'utf8'), markdown));
  log(`updated the results section of ${README}`);
}

function replaceResults(readme: string, markdown: string): string {
  const start = readme.indexOf(RESULTS_START);
  const end = readme.indexOf(RESULTS_END);
  if (start < 0 || end < start) throw new Error(`${README} has no ${RESULTS_START} … ${RESULTS_END} section`);
  return `${readme.slice(0, start + RESULTS_START.length)}\n${markdown}${readme.slice(end)}`;
}
