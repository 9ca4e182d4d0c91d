import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { ServerProcessError } from './errors.ts';

/**
 * A server binary running as a child of this process, its output appended to a log
 * file. Every live child is killed when this process exits, however it exits, so a
 * crashed test or a Ctrl-C never leaves servers behind.
 */
export class ManagedChild {
  readonly #command: string;
  readonly #args: readonly string[];
  readonly #logFile: string;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  #stopping = false;
  #onUnexpectedExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;

  constructor(command: string, args: readonly string[], logFile: string) {
    this.#command = command;
    this.#args = [...args];
    this.#logFile = logFile;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Called when the process exits without stop() or kill() having been asked for. */
  onUnexpectedExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#onUnexpectedExit = listener;
  }

  /** Spawns the process; resolves once it has been spawned (not when it is ready). */
  async spawn(): Promise<void> {
    if (this.running) return;
    this.#stopping = false;
    const log = openSync(this.#logFile, 'a');
    let child: ChildProcess;
    try {
      // A process group of its own: Ctrl-C in a terminal signals the whole foreground
      // group, and the server must not stop before DMF has drained its work into it.
      // DMF stops it itself, in order (and kills it when DMF exits).
      child = spawn(this.#command, this.#args, { stdio: ['ignore', log, log], detached: true });
    } finally {
      closeSync(log);
    }
    this.#child = child;
    live.add(child);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        resolve(code);
        if (!this.#stopping) this.#onUnexpectedExit?.(code, signal);
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (cause) =>
        reject(new ServerProcessError('process.exited', `cannot start ${this.#command}: ${cause.message}`, { cause })),
      );
    });
  }

  /** Rejects when the process exits before `ready` settles; used while waiting for readiness. */
  async whileRunning<T>(ready: Promise<T>): Promise<T> {
    const exited = this.#exited;
    if (!exited) throw new ServerProcessError('process.exited', `${this.#command} was not started`);
    const died = exited.then((code) => {
      throw new ServerProcessError(
        'process.exited',
        `${this.#command} exited with code ${code} while starting; see ${this.#logFile}`,
      );
    });
    return Promise.race([ready, died]);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call when not running. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    this.#stopping = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Ends the process at once (a crash, for failure tests). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    this.#stopping = true;
    child.kill('SIGKILL');
    await this.#exited;
  }
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
