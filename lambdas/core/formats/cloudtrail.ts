// PLACEHOLDER: replaced by the real parser in this session; never shipped as is.
import type { LogFormat } from '../types';

export const cloudtrailFormat: LogFormat = {
  name: 'cloudtrail',
  framing: 'lines',
  matchesKey: () => false,
  matchesContent: () => false,
  createParser: () => {
    throw new Error('cloudtrail parser not implemented yet');
  },
};
