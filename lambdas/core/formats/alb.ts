/**
 * Application Load Balancer access logs and connection logs.
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-connection-logs.html
 */
import type { LogFormat } from '../types';
import { createElbFamilyParser, detectElbFlavour } from './elb-family';

// `<acct>_elasticloadbalancing_<region>_app.<name>.<id>_<end>_<ip>_<random>.log.gz`, and the same
// behind `conn_log.` for connection logs; only the file name counts, so copied keys still match.
const ALB_KEY = /(?:^|\/)(?:conn_log\.)?\d{12}_elasticloadbalancing_[a-z0-9-]+_app\.[^/]+\.log(?:\.gz)?$/;

/**
 * ALB access and connection logs: one event per line, the ALB fields named as AWS documents them
 * (see `ALB_ACCESS_LAYOUT`). Connection log lines, and NLB or Classic ELB lines found in the same
 * object, are recognised by their shape and carry their own type (`alb_connection`, `nlb`, `elb`).
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
 */
export const albFormat: LogFormat = {
  name: 'alb',
  framing: 'lines',
  matchesKey: (key) => ALB_KEY.test(key),
  matchesContent: (firstLine) => {
    const flavour = detectElbFlavour(firstLine);
    return flavour === 'alb' || flavour === 'alb_connection';
  },
  createParser: () => createElbFamilyParser('alb'),
};
