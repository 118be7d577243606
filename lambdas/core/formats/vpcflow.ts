// PLACEHOLDER: replaced by the real parser in this session; never shipped as is.
import type { LogFormat } from '../types';

export const vpcFlowFormat: LogFormat = {
  name: 'vpcflow',
  framing: 'lines',
  matchesKey: () => false,
  matchesContent: () => false,
  createParser: () => {
    throw new Error('vpcflow parser not implemented yet');
  },
};
