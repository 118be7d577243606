/**
 * Network Load Balancer access logs (TLS listeners only).
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html
 */
import type { LogFormat } from '../types';
import { createElbFamilyParser, detectElbFlavour } from './elb-family';

// `<acct>_elasticloadbalancing_<region>_net.<name>.<id>_<end>_<random>.log.gz`.
const NLB_KEY = /(?:^|\/)\d{12}_elasticloadbalancing_[a-z0-9-]+_net\.[^/]+\.log(?:\.gz)?$/;

/**
 * NLB access logs: one event per line, fields in snake_case as AWS documents them (see
 * `NLB_ACCESS_LAYOUT`); other ELB-family lines in the same object carry their own type.
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html
 */
export const nlbFormat: LogFormat = {
  name: 'nlb',
  framing: 'lines',
  matchesKey: (key) => NLB_KEY.test(key),
  matchesContent: (firstLine) => detectElbFlavour(firstLine) === 'nlb',
  createParser: () => createElbFamilyParser('nlb'),
};
