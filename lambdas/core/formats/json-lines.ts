// PLACEHOLDER: replaced by the real parser in this session; never shipped as is.
import type { LogFormat } from '../types';

export const jsonLinesFormat: LogFormat = {
  name: 'json',
  framing: 'lines',
  matchesKey: () => false,
  matchesContent: () => false,
  createParser: () => {
    throw new Error('json parser not implemented yet');
  },
};
