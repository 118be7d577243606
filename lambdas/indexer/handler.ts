// PLACEHOLDER (CDK helper): lets `cdk synth` bundle this entry until the real handler lands; never shipped as is.
/** Not implemented yet: the real handler replaces this file. */
export async function handler(): Promise<never> {
  throw new Error('handler not implemented yet');
}
