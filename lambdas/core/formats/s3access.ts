// PLACEHOLDER: replaced by the real parser in this session; never shipped as is.
import type { LogFormat } from '../types';

export const s3AccessFormat: LogFormat = {
  name: 's3access',
  framing: 'lines',
  matchesKey: () => false,
  matchesContent: () => false,
  createParser: () => {
    throw new Error('s3access parser not implemented yet');
  },
};
