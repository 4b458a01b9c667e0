/**
 * Book-keeping for the child processes dev tooling starts (nats-server for the demo and the
 * tests, wfm-agg nodes in tests): none outlives the process that started it, and each keeps the
 * last lines it printed for error messages.
 */
import type { ChildProcess } from 'node:child_process';

// Children still running when this process exits would hold ports and temp dirs.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** SIGKILLs `child` if it is still running when this process exits. */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/**
 * Appends each non-empty line `child` prints (stdout and stderr) to `lines`, keeping only the
 * last `maxLines` of them.
 */
export function keepOutputTail(child: ChildProcess, lines: string[], maxLines: number): void {
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}
