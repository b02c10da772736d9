/**
 * --ab <git ref>: another build of the server, made in a temporary git worktree outside the repository (npm ci and
 * npm run build there), measured beside this one, then removed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReferenceBuild } from '../sections/capacity-section.js';
import { REPO_ROOT } from './paths.js';

export interface PreparedReference extends ReferenceBuild {
  remove(): void;
}

export function buildReference(ref: string, log: (line: string) => void): PreparedReference {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const dir = mkdtempSync(join(tmpdir(), 'vapi-bench-ab-'));
  // An interrupted run (Ctrl-C, kill) removes the worktree too, then dies of the same signal.
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    process.kill(process.pid, signal);
  };
  const remove = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      git('worktree', 'remove', '--force', dir);
    } catch {
      // not registered (the add failed): the directory alone goes
    }
    rmSync(dir, { recursive: true, force: true });
    git('worktree', 'prune');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`building ${ref} (${commit.slice(0, 12)}) in ${dir}: git worktree, npm ci, npm run build`);
    git('worktree', 'add', '--detach', dir, commit);
    const npm = (...args: string[]) => execFileSync('npm', args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    npm('ci', '--no-audit', '--no-fund');
    npm('run', 'build', '--silent');
    const entry = join(dir, 'dist', 'index.js');
    if (!existsSync(entry)) throw new Error(`${ref} built no dist/index.js`);
    return { ref, commit, entry, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
