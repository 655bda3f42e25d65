import { stopOnSignalsAndSupervisorLoss } from './shutdown';

describe('stopOnSignalsAndSupervisorLoss', () => {
  afterEach(() => {
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    jest.useRealTimers();
  });

  it('exits 0 once closing finished', async () => {
    const exit = jest.fn();
    const log = jest.fn();
    const stop = stopOnSignalsAndSupervisorLoss({ close: async () => undefined }, { timeoutMs: 1000, log, exit });
    await stop('SIGTERM');
    expect(log).toHaveBeenCalledWith('SIGTERM: closing');
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('exits 1 at the deadline when closing hangs (a dependency is down)', async () => {
    jest.useFakeTimers();
    const exit = jest.fn();
    const log = jest.fn();
    const stop = stopOnSignalsAndSupervisorLoss({ close: () => new Promise<void>(() => undefined) }, { timeoutMs: 1000, log, exit });
    void stop('SIGTERM');
    jest.advanceTimersByTime(999);
    expect(exit).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(exit).toHaveBeenCalledWith(1);
    expect(log).toHaveBeenCalledWith(expect.stringContaining('SHUTDOWN_TIMEOUT_MS'));
  });

  it('stops once, however many signals come', async () => {
    const exit = jest.fn();
    const close = jest.fn(async () => undefined);
    const stop = stopOnSignalsAndSupervisorLoss({ close }, { timeoutMs: 1000, log: () => undefined, exit });
    await Promise.all([stop('SIGTERM'), stop('SIGINT')]);
    expect(close).toHaveBeenCalledTimes(1);
  });
});
