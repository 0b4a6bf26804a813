/**
 * Loads a pipeline's runner only when its command runs, so that the CLI works (help, other
 * commands) in a build that does not contain that pipeline, and says so clearly when asked to run it.
 */
import type { Runner } from './service-command';

export function lazyRunner<C>(pipeline: string, modulePath: string, load: () => unknown): Runner<C> {
  return async (config, logger, stopSignal) => {
    let runner: unknown;
    try {
      runner = load();
    } catch (error) {
      const missing =
        (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
        // only the pipeline module itself: a module missing deeper down is a real error of that pipeline
        ((error as Error).message.split('\n')[0] ?? '').includes(`'${modulePath}'`);
      if (!missing) throw error;
      throw new Error(
        `the ${pipeline} pipeline is not part of this build (module ${modulePath.replace(/^(\.\.\/)+/, '')} not found); use a build that includes it`,
        { cause: error },
      );
    }
    if (typeof runner !== 'function') {
      throw new Error(`the ${pipeline} pipeline module ${modulePath} does not export its runner function`);
    }
    return (runner as Runner<C>)(config, logger, stopSignal);
  };
}
