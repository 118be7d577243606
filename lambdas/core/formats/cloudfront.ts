// PLACEHOLDER: replaced by the real parser in this session; never shipped as is.
import type { LogFormat } from '../types';

export const cloudfrontFormat: LogFormat = {
  name: 'cloudfront',
  framing: 'lines',
  matchesKey: () => false,
  matchesContent: () => false,
  createParser: () => {
    throw new Error('cloudfront parser not implemented yet');
  },
};
