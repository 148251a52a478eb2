import type { Scenario } from '../lib/scenario.ts';

export const commandScenario: Scenario = {
  name: 'command',
  summary: 'todo',
  async run() {
    throw new Error('not written yet');
  },
};
