/**
 * Process signals for long-running commands:
 * - SIGINT / SIGTERM: the first asks for a graceful stop (aborts `stopSignal`); a second one exits at
 *   once with code 1, for when a clean stop hangs.
 * - SIGHUP: ignored, so the process survives the terminal that started it being closed.
 */
import type { Logger } from '../observability/logger';

export interface SignalHandlers {
  /** aborted on the first SIGINT/SIGTERM; its reason is the signal name */
  stopSignal: AbortSignal;
  /** removes the handlers (after the command has finished) */
  uninstall(): void;
}

export function installSignalHandlers(
  logger: Logger,
  exit: (code: number) => void = process.exit,
): SignalHandlers {
  const controller = new AbortController();
  const onStop = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      logger.info({ signal }, `received ${signal}: stopping gracefully (send it again to exit at once)`);
      controller.abort(signal);
      return;
    }
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
