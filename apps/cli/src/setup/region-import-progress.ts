import { Presets, SingleBar } from 'cli-progress';
import type { RegionImportProgress, RegionImportProgressListener } from './region-import';

export interface ProgressLog {
  info(message: string): void;
}

const LABELS: Record<RegionImportProgress['phase'], string> = {
  scan: 'Reading villages.csv',
  write: 'Writing regions     ',
};

const LOG_INTERVAL_MS = 2000;

/**
 * A progress bar on stderr when it is a terminal; otherwise (CI, docker logs,
 * tests) a log line per phase at most every 2 s, so logs stay readable.
 */
export function createRegionImportProgress(
  log: ProgressLog,
  stream: NodeJS.WriteStream = process.stderr,
): { onProgress: RegionImportProgressListener; stop(): void } {
  if (stream.isTTY) {
    let bar: SingleBar | undefined;
    let phase: RegionImportProgress['phase'] | undefined;
    const stop = () => {
      bar?.stop();
      bar = undefined;
    };
    return {
      onProgress: (p) => {
        if (p.phase !== phase) {
          stop();
          phase = p.phase;
          const unit = p.phase === 'scan' ? '{percentage}%' : '{value}/{total} rows';
          bar = new SingleBar(
            { stream, format: `${LABELS[p.phase]} [{bar}] ${unit}`, hideCursor: true, clearOnComplete: false },
            Presets.shades_classic,
          );
          bar.start(p.total, p.done);
        } else {
          bar?.update(p.done);
        }
      },
      stop,
    };
  }

  let phase: RegionImportProgress['phase'] | undefined;
  let lastLoggedAt = 0;
  let lastLoggedDone = -1;
  return {
    onProgress: (p) => {
      const now = Date.now();
      if (p.phase !== phase) {
        phase = p.phase;
        lastLoggedAt = now;
        lastLoggedDone = -1;
      }
      const isPhaseEnd = p.done >= p.total;
      if (p.done === lastLoggedDone || (!isPhaseEnd && now - lastLoggedAt < LOG_INTERVAL_MS)) return;
      lastLoggedAt = now;
      lastLoggedDone = p.done;
      const amount =
        p.phase === 'scan' ? `${Math.round((100 * p.done) / Math.max(p.total, 1))}%` : `${p.done}/${p.total} rows`;
      log.info(`${LABELS[p.phase].trim()}: ${amount}`);
    },
    stop: () => undefined,
  };
}
