import type { Scenario } from '../lib/scenario.ts';

export const scaleScenario: Scenario = {
  name: 'scale',
  summary: 'todo',
  async run() {
    throw new Error('not written yet');
  },
};
