/**
 * Classic Load Balancer access logs.
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html
 */
import type { LogFormat } from '../types';
import { createElbFamilyParser, detectElbFlavour } from './elb-family';

// `<acct>_elasticloadbalancing_<region>_<name>_<end>_<ip>_<random>.log`: a Classic name holds only
// letters, digits and hyphens, where ALB and NLB names start with `app.` or `net.`.
const CLASSIC_KEY =
  /(?:^|\/)\d{12}_elasticloadbalancing_[a-z0-9-]+_[A-Za-z0-9-]+_\d{8}T\d{4}Z_[^/]+\.log(?:\.gz)?$/;

/**
 * Classic ELB access logs: one event per line, with `backend_*` fields where ALB has `target_*`
 * (see `CLASSIC_ACCESS_LAYOUT`); other ELB-family lines in the same object carry their own type.
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html
 */
export const elbFormat: LogFormat = {
  name: 'elb',
  framing: 'lines',
  matchesKey: (key) => CLASSIC_KEY.test(key),
  matchesContent: (firstLine) => detectElbFlavour(firstLine) === 'elb',
  createParser: () => createElbFamilyParser('elb'),
};
