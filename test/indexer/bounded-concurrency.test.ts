import { boundedConcurrency } from '../../lambdas/indexer/bounded-concurrency';

/** A task that records when it runs and finishes when told. */
function controlledTask(name: string, log: string[]) {
  let finish: (value: string) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const task = () =>
    new Promise<string>((resolve, reject) => {
      log.push(`start ${name}`);
      finish = resolve;
      fail = reject;
    });
  return { task, finish: () => finish(name), fail: (error: Error) => fail(error) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('boundedConcurrency', () => {
  it('runs at most the limit at once and starts the waiting tasks in order, also after a failure', async () => {
    // Prepare
    const log: string[] = [];
    const limit = boundedConcurrency(2);
    const tasks = ['a', 'b', 'c', 'd'].map((name) => controlledTask(name, log));

    // Act
    const results = tasks.map(({ task }) => limit(task).catch((error: Error) => `failed: ${error.message}`));
    await settle();
    const afterStart = [...log];
    tasks[1]?.fail(new Error('b broke'));
    await settle();
    const afterFailure = [...log];
    tasks[0]?.finish();
    await settle();
    tasks[2]?.finish();
    tasks[3]?.finish();

    // Assess
    expect(afterStart).toEqual(['start a', 'start b']);
    expect(afterFailure).toEqual(['start a', 'start b', 'start c']);
    expect(log).toEqual(['start a', 'start b', 'start c', 'start d']);
    expect(await Promise.all(results)).toEqual(['a', 'failed: b broke', 'c', 'd']);
  });

  it('frees its slots once every task has ended', async () => {
    // Prepare
    const limit = boundedConcurrency(1);
    await limit(async () => 'first');
    const log: string[] = [];
    const next = controlledTask('next', log);

    // Act
    const result = limit(next.task);
    await settle();
    next.finish();

    // Assess
    expect(log).toEqual(['start next']);
    expect(await result).toBe('next');
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => boundedConcurrency(0)).toThrow(RangeError);
    expect(() => boundedConcurrency(1.5)).toThrow(RangeError);
  });
});
