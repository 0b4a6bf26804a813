/**
 * Process signals for long-running commands:
 * - SIGINT / SIGTERM: the first asks for a graceful stop (aborts `stopSignal`); a second one exits at
 *   once with code 1, for when a clean stop hangs. A repeat within REPEAT_WINDOW_MS is the same
 *   Ctrl+C delivered again (the terminal signals the whole process group, and wrappers such as npm
 *   and tsx relay it to their child as well), so it does not count as a second one.
 * - SIGHUP: ignored, so the process survives the terminal that started it being closed.
 */
import type { Logger } from '../observability/logger';

export interface SignalHandlers {
  /** aborted on the first SIGINT/SIGTERM; its reason is the signal name */
  stopSignal: AbortSignal;
  /** removes the handlers (after the command has finished) */
  uninstall(): void;
}

/** Signals closer together than this are one user action relayed several times. */
export const REPEAT_WINDOW_MS = 1000;

export function installSignalHandlers(
  logger: Logger,
  exit: (code: number) => void = process.exit,
): SignalHandlers {
  const controller = new AbortController();
  let firstAt = 0;
  const onStop = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      firstAt = Date.now();
      logger.info({ signal }, `received ${signal}: stopping gracefully (send it again to exit at once)`);
      controller.abort(signal);
      return;
    }
    if (Date.now() - firstAt < REPEAT_WINDOW_MS) return;
    logger.error({ signal }, `received ${signal} again: exiting now, without a clean stop`);
    exit(1);
  };
  const onHangUp = (): void => {
    logger.info({ signal: 'SIGHUP' }, 'received SIGHUP (terminal closed?): ignored, still running');
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onHangUp);
  return {
    stopSignal: controller.signal,
    uninstall: () => {
      process.off('SIGINT', onStop);
      process.off('SIGTERM', onStop);
      process.off('SIGHUP', onHangUp);
    },
  };
}
