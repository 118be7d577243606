/**
 * Which formats have a byte engine (see `delimited-bytes.ts`): the ELB family, whose objects run
 * to hundreds of megabytes. Every other format is parsed by its string engine only.
 */
import type { LogFormat } from '../types';
import { albFormat } from './alb';
import { type ByteLineEncoder, DelimitedByteEncoder } from './delimited-bytes';
import { elbFormat } from './elb';
import { ALB_ACCESS_LAYOUT, CLASSIC_ACCESS_LAYOUT, elbFlavourAt, NLB_ACCESS_LAYOUT } from './elb-family';
import { nlbFormat } from './nlb';

const OWN_LAYOUTS = { alb: ALB_ACCESS_LAYOUT, nlb: NLB_ACCESS_LAYOUT, elb: CLASSIC_ACCESS_LAYOUT } as const;

/**
 * The byte engine of an ELB-family format: it takes the lines of the format's own flavour; a line
 * of another flavour (an NLB line in an ALB object) keeps its own type through the string engine.
 */
function elbFamilyEncoder(flavour: keyof typeof OWN_LAYOUTS): ByteLineEncoder {
  return new DelimitedByteEncoder(
    OWN_LAYOUTS[flavour],
    (arena, start, end) => elbFlavourAt(arena, start, end) === flavour,
  );
}

const BYTE_ENCODERS = new Map<LogFormat, () => ByteLineEncoder>([
  [albFormat, () => elbFamilyEncoder('alb')],
  [nlbFormat, () => elbFamilyEncoder('nlb')],
  [elbFormat, () => elbFamilyEncoder('elb')],
]);

/** A new byte engine for the lines of `format`, or undefined when it has none. */
export function byteEncoderFor(format: LogFormat): ByteLineEncoder | undefined {
  return BYTE_ENCODERS.get(format)?.();
}
