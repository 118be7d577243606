// PLACEHOLDER: replaced by the real parser in this session; never shipped as is.
import type { LogFormat } from '../types';

export const nlbFormat: LogFormat = {
  name: 'nlb',
  framing: 'lines',
  matchesKey: () => false,
  matchesContent: () => false,
  createParser: () => {
    throw new Error('nlb parser not implemented yet');
  },
};
